"""The PyTorch encoders of the training benchmarks (bench/train, bench/dist), shared so that
both measure the same models as their sslua counterparts (bench/lib/models.lua)."""
import torch.nn as nn
import torchvision


def encoder(arch):
    """(encoder, output dimension): torchvision's ResNet-18 with the CIFAR stem (3x3 conv,
    no max-pool, no fc), or the 3-stage BasicBlock ResNet 32-64-128 with one block per stage."""
    if arch == "resnet18":
        enc = torchvision.models.resnet18()
        enc.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        enc.maxpool = nn.Identity()
        enc.fc = nn.Identity()
        return enc, 512
    if arch != "resnet3":
        raise SystemExit("unknown arch " + arch)
    from torchvision.models.resnet import BasicBlock, conv1x1

    def stage(inp, out, stride):
        down = None
        if stride != 1 or inp != out:
            down = nn.Sequential(conv1x1(inp, out, stride), nn.BatchNorm2d(out))
        return nn.Sequential(BasicBlock(inp, out, stride, down))

    enc = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
                        stage(32, 32, 1), stage(32, 64, 2), stage(64, 128, 2),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return enc, 128
