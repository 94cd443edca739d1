# fuzz_config: the YAML config loader on arbitrary bytes.
# Seed corpus: corpus/config/; crash inputs kept as regressions/config/.
gpsc_add_fuzzer(fuzz_config fuzz_config.c LIBS gpsc_config)
