"""Up pads the upsampled tensor on the right and bottom only (the same when one pixel is
missing, as in a U-Net, wrong when more are)."""

# ruff: noqa: F821
CHECK = "unet/up"
MESSAGE = "values differ"


class Up:
    def forward(self, x, skip):
        x = self.up(x)
        dy = skip.shape[2] - x.shape[2]
        dx = skip.shape[3] - x.shape[3]
        x = nn.functional.pad(x, [0, dx, 0, dy])
        return self.conv(torch.cat([skip, x], dim=1))
