# Installs the library, its headers and a package config so that a user's project can
#   find_package(nabla REQUIRED) and target_link_libraries(app PRIVATE nabla::nabla).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS nabla EXPORT nablaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/nabla DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT nablaTargets NAMESPACE nabla:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)
configure_package_config_file(cmake/nablaConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/nablaConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/nablaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nablaConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/nablaConfigVersion.cmake
              cmake/FindOpenBLAS.cmake cmake/FindCUDNN.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)
