"""DoubleConv ignores mid_channels: the first convolution always has out_channels filters."""

# ruff: noqa: F821
CHECK = "unet/doubleconv"
MESSAGE = "has shape"


class DoubleConv:
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        mid = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )
