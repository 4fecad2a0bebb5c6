# Decides which distributed backends are built, from the NABLA_MPI option and the CUDA backend:
#   NABLA_WITH_MPI   MPI's C API (MPI::MPI_C; the C++ bindings are deprecated and unused): AUTO
#                    turns it on when found, ON insists.
#   NABLA_WITH_NCCL  NCCL (nccl.h and libnccl, searched in the CUDA toolkit first): on whenever
#                    the CUDA backend and MPI are on and NCCL is found, since NCCL is bootstrapped
#                    through MPI.
set(NABLA_WITH_MPI OFF)
if(NOT NABLA_MPI STREQUAL "OFF")
  # FindMPI looks for a language's MPI only when that language is enabled.
  include(CheckLanguage)
  check_language(C)
  if(CMAKE_C_COMPILER)
    enable_language(C)
    find_package(MPI QUIET COMPONENTS C)
  endif()
  if(MPI_C_FOUND)
    set(NABLA_WITH_MPI ON)
    find_program(NABLA_MPIEXEC NAMES ${MPIEXEC_EXECUTABLE} mpirun mpiexec)
    message(STATUS "nabla: MPI ON (MPI ${MPI_C_VERSION}, ${NABLA_MPIEXEC})")
  elseif(NABLA_MPI STREQUAL "ON")
    message(FATAL_ERROR "NABLA_MPI=ON but MPI was not found (install libopenmpi-dev openmpi-bin)")
  endif()
endif()
if(NOT NABLA_WITH_MPI)
  message(STATUS "nabla: MPI OFF")
endif()

set(NABLA_WITH_NCCL OFF)
if(NABLA_WITH_CUDA AND NABLA_WITH_MPI)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(NABLA_WITH_NCCL ON)
    message(STATUS "nabla: NCCL ON (${NCCL_LIBRARY})")
  else()
    message(STATUS "nabla: NCCL not found, GPU all-reduce goes through MPI on the host")
  endif()
endif()
