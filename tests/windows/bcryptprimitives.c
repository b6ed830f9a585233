/*
 * A stand-in bcryptprimitives.dll for running the Windows build under Wine 8 (scripts/test-windows).
 *
 * Why it exists: Rust's standard library on Windows takes its random bytes (HashMap seeds, and
 * the getrandom crate after it) from ProcessPrng in bcryptprimitives.dll, which Windows 10 and
 * later ship and Wine 8 does not. Without it every Rust .exe dies at load with
 * STATUS_DLL_NOT_FOUND (c0000135) before main. This DLL exports ProcessPrng over RtlGenRandom
 * (advapi32's SystemFunction036), which Wine implements from the host's random source.
 *
 * Only the test prefix gets it (scripts/test-windows copies it into the temporary WINEPREFIX's
 * system32); nothing shipped contains it, and on real Windows the system's own DLL is used.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length: ask in chunks. ProcessPrng never fails on Windows;
     * here a failure of the source is reported as FALSE rather than hidden. */
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
