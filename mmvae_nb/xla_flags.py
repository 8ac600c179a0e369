"""XLA's cheapest CPU pipeline, for runs whose numbers do not matter (the tests, the smoke
profile): optimization level 0 and the loop emitters instead of the fusion emitters. Their
programs are tiny and each compiles once, so compilation is their time (one linear training:
30.5 -> 20.3 s); a model's numbers move in the last digits and compiled steps run slower.

    python -m mmvae_nb.xla_flags      # prints them (the Makefile sets them for PROFILE=smoke)
"""

FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"

if __name__ == "__main__":
    print(FAST_COMPILE)
