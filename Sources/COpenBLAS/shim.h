#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>
// OpenBLAS extensions (openblas_get_corename, openblas_get_config), declared by OpenBLAS's own cblas.h.

// What the CPU can run, so that trapline can tell when OpenBLAS fell back to a generic kernel (docs/blas.md).
// x86-64: the cpuid instruction and the XCR0 register (which vector state the kernel saves); arm64: the hwcaps
// the kernel reports. Elsewhere they report nothing.
#if defined(__x86_64__)
#include <cpuid.h>
/// Fills registers[0..3] with EAX, EBX, ECX, EDX of cpuid(leaf, subleaf); returns 0 when the leaf is beyond the CPU's.
static inline int COpenBLAS_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int *registers) {
    return __get_cpuid_count(leaf, subleaf, &registers[0], &registers[1], &registers[2], &registers[3]);
}
/// XCR0; call only when cpuid(1).ECX has OSXSAVE (bit 27), or xgetbv faults.
static inline unsigned long long COpenBLAS_xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#else
static inline int COpenBLAS_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int *registers) {
    (void)leaf; (void)subleaf; (void)registers;
    return 0;
}
static inline unsigned long long COpenBLAS_xgetbv0(void) { return 0; }
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
/// The kernel's AT_HWCAP bits for this process (arm64 Linux: asm/hwcap.h).
static inline unsigned long COpenBLAS_hwcap(void) { return getauxval(AT_HWCAP); }
/// AT_HWCAP2: the bits that did not fit in AT_HWCAP (SVE2 and later).
static inline unsigned long COpenBLAS_hwcap2(void) { return getauxval(AT_HWCAP2); }
#else
static inline unsigned long COpenBLAS_hwcap(void) { return 0; }
static inline unsigned long COpenBLAS_hwcap2(void) { return 0; }
#endif
#endif
