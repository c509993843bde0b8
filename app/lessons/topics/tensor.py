"""The tensor-convolution page's guided tasks (static/js/views/tensor.js: its URL state is
only `seed`; its session is the tensor-conv preset: a 3-channel 5 x 5 input, 2 kernels
of 3 x 3 x 3, stride 2, padding 1, shown as kernels x channels partial maps).

The lecture's claims (张量卷积), in its order: one kernel channel over one input channel
is a 2-D cross-correlation (a partial map, `conv1.partial[0, f, c]`); stride moves its
window 2 cells; a kernel's output channel is the sum of its partial maps plus its bias;
and each kernel makes one output channel. (No size task: every map on this page shows
the output's 3 x 3 at once; the convolution page asks that very size, its conv-stride.)"""

from app.lessons.model import Query, Task

PAGE: Query = {"seed": ""}  # the server's default seed, as the page opens

TASKS: tuple[Task, ...] = (
    Task("tensor-partial", "tensor-convolution", PAGE, "number", "tensor-convolution",
         tensor="conv1.partial", index=(0, 0, 0, 0, 0)),
    Task("tensor-stride", "tensor-convolution", PAGE, "number", "tensor-convolution",
         tensor="conv1.partial", index=(0, 0, 0, 0, 1)),
    Task("tensor-sum", "tensor-convolution", PAGE, "number", "tensor-convolution",
         tensor="conv1.out", index=(0, 0, 0, 0)),
    Task("tensor-kernel", "tensor-convolution", PAGE, "number", "tensor-convolution",
         tensor="conv1.out", index=(0, 1, 1, 1)),
)  # fmt: skip
