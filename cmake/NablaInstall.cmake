# Installs the library, its headers, a CMake package config and a pkg-config file, so that a
# user's project can
#   find_package(nabla REQUIRED) and target_link_libraries(app PRIVATE nabla::nabla), or
#   c++ -std=c++20 app.cpp $(pkg-config --cflags --libs nabla)
# A shared nabla asks its consumers only for fmt (its one public dependency: the headers use it);
# a static one also for everything the archive links.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(NABLA_INSTALL_TARGETS nabla)
if(NOT BUILD_SHARED_LIBS)
  list(APPEND NABLA_INSTALL_TARGETS nabla_archive)
endif()
install(TARGETS ${NABLA_INSTALL_TARGETS} EXPORT nablaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development)
install(DIRECTORY include/nabla DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT nablaTargets NAMESPACE nabla:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)

set(NABLA_STATIC_DEPENDENCIES "")
if(NOT BUILD_SHARED_LIBS)
  set(NABLA_STATIC_DEPENDENCIES "find_dependency(OpenBLAS)
find_dependency(ZLIB)
find_dependency(OpenSSL COMPONENTS Crypto)
find_dependency(nlohmann_json 3)
find_dependency(Threads)")
  if(NABLA_WITH_CUDA)
    string(APPEND NABLA_STATIC_DEPENDENCIES "\nfind_dependency(CUDAToolkit)\nfind_dependency(CUDNN)")
  endif()
  if(NABLA_WITH_MPI)
    # FindMPI looks for MPI's C library only where C is enabled.
    string(APPEND NABLA_STATIC_DEPENDENCIES "\nenable_language(C)\nfind_dependency(MPI COMPONENTS C)")
  endif()
endif()
configure_package_config_file(cmake/nablaConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/nablaConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/nablaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
set(NABLA_CONFIG_FILES ${CMAKE_CURRENT_BINARY_DIR}/nablaConfig.cmake
                       ${CMAKE_CURRENT_BINARY_DIR}/nablaConfigVersion.cmake)
if(NOT BUILD_SHARED_LIBS)
  list(APPEND NABLA_CONFIG_FILES cmake/FindOpenBLAS.cmake cmake/FindCUDNN.cmake)
endif()
install(FILES ${NABLA_CONFIG_FILES} DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)

# pkg-config: the shared library needs only fmt; the static archive is linked whole (see
# CMakeLists.txt) and brings its own dependencies.
if(BUILD_SHARED_LIBS)
  set(NABLA_PC_LIBS "-L\${libdir} -lnabla")
  set(NABLA_PC_REQUIRES "fmt")
else()
  set(NABLA_PC_LIBS "-L\${libdir} -Wl,--whole-archive -lnabla -Wl,--no-whole-archive")
  set(NABLA_PC_REQUIRES "fmt openblas zlib libcrypto")
  if(NABLA_WITH_CUDA)
    string(APPEND NABLA_PC_LIBS " -L${CUDAToolkit_LIBRARY_DIR} -lcudart -lcublas ${CUDNN_LIBRARY}")
  endif()
  if(NABLA_WITH_MPI)
    foreach(library IN LISTS MPI_C_LIBRARIES)
      string(APPEND NABLA_PC_LIBS " ${library}")
    endforeach()
  endif()
  if(NABLA_WITH_NCCL)
    string(APPEND NABLA_PC_LIBS " ${NCCL_LIBRARY}")
  endif()
  string(APPEND NABLA_PC_LIBS " -pthread")
endif()
file(RELATIVE_PATH NABLA_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" NABLA_PC_TO_PREFIX "${NABLA_PC_TO_PREFIX}")
configure_file(cmake/nabla.pc.in ${CMAKE_CURRENT_BINARY_DIR}/nabla.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nabla.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
