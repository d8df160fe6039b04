package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.LongLruCache;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * Locates the device context of a {@code device_id}: riscv-iommu "Process to translate an IOVA" steps 3
 * to 6 and "Process to locate the Device-context" (GET_DC); reference/iommu-hardware.md §2.4.1. The DDT
 * has 1, 2 or 3 levels ({@code ddtp.iommu_mode} 1LVL/2LVL/3LVL); base-format {@code DDI} split 7/9/8 bits;
 * non-leaf entries are 8 bytes, device contexts 32. Located contexts are kept in a device-context cache
 * until {@code IODIR.INVAL_DDT}; entries that are not valid or fault are never cached.
 */
final class DeviceContextWalk {

    private final PhysicalMemory memory;
    private final ContextChecks checks;
    private final LongLruCache<RiscvDeviceContext> cache;

    DeviceContextWalk(PhysicalMemory memory, ContextChecks checks, int cacheEntries) {
        this.memory = memory;
        this.checks = checks;
        this.cache = new LongLruCache<>(cacheEntries);
    }

    /** Steps 5 and 6 for a {@code ddtp} in 1LVL, 2LVL or 3LVL mode. */
    Located<RiscvDeviceContext> locate(long ddtp, int deviceId) {
        int mode = (int) (ddtp & RiscvRegs.DDTP_MODE_MASK);
        int levels = mode - RiscvRegs.DDTP_MODE_1LVL + 1;
        int[] ddi = {deviceId & 0x7f, deviceId >>> 7 & 0x1ff, deviceId >>> 16 & 0xff};
        if (deviceId >>> 24 != 0 || levels < 3 && ddi[2] != 0 || levels < 2 && ddi[1] != 0) {
            return Located.fault(RiscvCause.TRANSACTION_TYPE_DISALLOWED, HwFaultReason.DEVICE_ID_OUT_OF_RANGE);
        }
        RiscvDeviceContext cached = cache.get(deviceId);
        if (cached != null) {
            return new Located<>(cached, null);
        }
        long a = RiscvRegs.ppnAddress(ddtp);
        for (int i = levels - 1; i > 0; i--) {
            long entry = a + 8L * ddi[i];
            if (!memory.contains(entry, 8)) {
                return Located.fault(RiscvCause.DDT_LOAD_ACCESS_FAULT, HwFaultReason.DEVICE_CTX_FETCH_ERROR);
            }
            long ddte = memory.readLong(entry);
            if ((ddte & RiscvDeviceContext.NON_LEAF_V) == 0) {
                return Located.fault(RiscvCause.DDT_NOT_VALID, HwFaultReason.DEVICE_CTX_NOT_PRESENT);
            }
            if ((ddte & RiscvDeviceContext.NON_LEAF_RESERVED) != 0) {
                return Located.fault(RiscvCause.DDT_MISCONFIGURED, HwFaultReason.DEVICE_CTX_MISCONFIGURED);
            }
            a = RiscvRegs.ppnAddress(ddte);
        }
        long dcAddr = a + (long) RiscvDeviceContext.SIZE * ddi[0];
        if (!memory.contains(dcAddr, RiscvDeviceContext.SIZE)) {
            return Located.fault(RiscvCause.DDT_LOAD_ACCESS_FAULT, HwFaultReason.DEVICE_CTX_FETCH_ERROR);
        }
        RiscvDeviceContext dc = RiscvDeviceContext.readFrom(memory, dcAddr);
        if (!dc.has(RiscvDeviceContext.TC_V)) {
            return Located.fault(RiscvCause.DDT_NOT_VALID, HwFaultReason.DEVICE_CTX_NOT_PRESENT);
        }
        if (checks.misconfigured(dc)) {
            return Located.fault(RiscvCause.DDT_MISCONFIGURED, HwFaultReason.DEVICE_CTX_MISCONFIGURED);
        }
        cache.put(deviceId, dc);
        return new Located<>(dc, null);
    }

    /** {@code IODIR.INVAL_DDT}: the context of {@code deviceId}, or every context when {@code all}. */
    void invalidate(boolean all, int deviceId) {
        cache.removeIf((did, dc) -> all || did == deviceId);
    }

    LongLruCache<RiscvDeviceContext> cache() {
        return cache;
    }

    int cachedEntries() {
        return cache.size();
    }
}
