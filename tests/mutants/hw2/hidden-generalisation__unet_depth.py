"""UNet always builds three levels, whatever depth it is given."""

# ruff: noqa: F821
CHECK = "hidden-generalisation/unet-depth"
MESSAGE = "state_dict"


class UNet:
    def __init__(self, in_channels, num_classes, base_channels=16, depth=3):
        super().__init__()
        widths = [base_channels * 2**i for i in range(4)]
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList(Down(widths[i], widths[i + 1]) for i in range(3))
        self.ups = nn.ModuleList(Up(widths[i + 1], widths[i]) for i in reversed(range(3)))
        self.outc = nn.Conv2d(widths[0], num_classes, kernel_size=1)
