# experiment: the experiment YAML file (common/experiment.h), on top of config
add_library(gpsc_experiment STATIC experiment.c)
target_include_directories(gpsc_experiment PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_experiment PUBLIC gpsc_config gpsc_core gpsc_flags)

# policy: what worker and learner must compute identically — the
# linear-Gaussian controller, the MLP forward pass, exploration noise.
# -ffp-contract=off: no fused multiply-add, so the documented order of
# operations is the order of roundings on every machine and compiler.
add_library(gpsc_policy STATIC lgpolicy.c mlp.c noise.c)
target_include_directories(gpsc_policy PUBLIC ${CMAKE_SOURCE_DIR})
target_compile_options(gpsc_policy PRIVATE -ffp-contract=off -O3)
target_link_libraries(gpsc_policy PUBLIC gpsc_core gpsc_flags m)
