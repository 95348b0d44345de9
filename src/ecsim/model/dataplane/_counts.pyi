import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

def count_rows(
    row: I64,
    nr: int,
    status: I64,
    status_col: I64,
    nc: int,
    ip: I64,
    col_of: I64,
    width: int,
    from_target: npt.NDArray[np.uint8],
    latency: F64,
    bins: I64,
    lo: int,
    nb: int,
) -> tuple[I64, I64, I64, I64, I64, F64, F64] | None: ...
def trim_rows(table: I64, lo: int) -> tuple[I64, I64, I64]: ...
