import numpy as np
import numpy.typing as npt

def fill_normals(state: int, inc: int, out: npt.NDArray[np.float64]) -> None: ...
