# gpsc-keygen: CURVE key pairs and allow-lists for clusters (`gpsc keygen`)
add_executable(gpsc-keygen ${CMAKE_CURRENT_LIST_DIR}/keygen.c)
target_link_libraries(gpsc-keygen PRIVATE gpsc_keys gpsc_flags)

# CURVE in the cluster roles: the coordinator (server keys, allow-list) and
# the learner and worker services (client keys) read their key files
# through gpsc_keys. (Linked from here so that the roles' own cmake files
# stay as they are; CMP0079 allows linking targets of other directories.)
foreach(t gpsc_coord gpsc-coordinator gpsc-learner gpsc-worker)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE gpsc_keys)
  endif()
endforeach()
