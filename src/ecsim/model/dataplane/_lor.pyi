import numpy as np
import numpy.typing as npt

def least_outstanding(
    t: npt.NDArray[np.float64],
    u: npt.NDArray[np.float64],
    done: npt.NDArray[np.float64],
    cls: npt.NDArray[np.int64],
    m: int,
    prior_done: npt.NDArray[np.float64],
    prior_j: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]: ...
