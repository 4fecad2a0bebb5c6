// How a reduction combines values: by a tensor op's backend and by a communicator across ranks.
#pragma once

namespace nabla {

enum class ReduceOp { Sum, Max };

}  // namespace nabla
