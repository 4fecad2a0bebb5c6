# Finds OpenBLAS with its CBLAS header and defines OpenBLAS::OpenBLAS. Linked directly (not
# through libblas.so.3, which Debian may point at the slow reference BLAS).
find_path(OpenBLAS_INCLUDE_DIR cblas.h
  PATH_SUFFIXES openblas-pthread openblas
  HINTS /usr/include/x86_64-linux-gnu /usr/include)
find_library(OpenBLAS_LIBRARY openblas
  PATH_SUFFIXES openblas-pthread openblas
  HINTS /usr/lib/x86_64-linux-gnu /usr/lib)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLAS DEFAULT_MSG OpenBLAS_LIBRARY OpenBLAS_INCLUDE_DIR)
if(OpenBLAS_FOUND AND NOT TARGET OpenBLAS::OpenBLAS)
  add_library(OpenBLAS::OpenBLAS UNKNOWN IMPORTED)
  set_target_properties(OpenBLAS::OpenBLAS PROPERTIES IMPORTED_LOCATION "${OpenBLAS_LIBRARY}"
                                                      INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIR}")
endif()
