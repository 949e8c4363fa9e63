# Sourced by the benchmark scripts: exports OPENBLAS_CORETYPE, unless set, from the CPU's
# flags. OpenBLAS 0.3.21 falls back to generic SSE3 kernels on CPUs it does not recognise
# (common in virtual machines); gomlxblas corrects that in-process, PyTorch does not, so
# every side of a comparison gets the same core.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  if [[ $flags == *avx512f* && $flags == *avx512bw* && $flags == *avx512dq* && $flags == *avx512vl* ]]; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif [[ $flags == *avx2* && $flags == *fma* ]]; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
echo "OpenBLAS core for every side: ${OPENBLAS_CORETYPE:-detected by OpenBLAS}"
