package dev.iommulab.hw.vtd;

/**
 * Build-time options of a VT-d unit.
 *
 * @param autoRespondOnPrqFull answer Success by itself for an LPIG page request that cannot be queued
 *                             because the queue is full or PRO is set (VT-d spec Table 31); off gives the
 *                             QEMU-compatible behaviour of sending nothing
 */
public record VtdConfig(String name, boolean autoRespondOnPrqFull) {

    public static VtdConfig defaults(String name) {
        return new VtdConfig(name, true);
    }
}
