package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.Layer;

/**
 * The queued-invalidation interface: a ring of 256-bit descriptors ({@code IQA}, {@code IQH},
 * {@code IQT}). The unit fetches descriptors as soon as software moves the tail. This model has no
 * translation caches yet, so cache invalidations complete without further effect; page group
 * responses go to the function and wait descriptors write their status. An unknown descriptor sets
 * {@code FSTS.IQE} and the head stays on it.
 */
final class InvalidationQueue {

    private final VtdUnit unit;
    private long iqa;
    private long head;
    private long tail;

    InvalidationQueue(VtdUnit unit) {
        this.unit = unit;
    }

    long readReg(int offset) {
        return switch (offset) {
            case VtdRegs.IQA -> iqa;
            case VtdRegs.IQH -> head;
            case VtdRegs.IQT -> tail;
            default -> 0;
        };
    }

    void writeReg(int offset, long value) {
        switch (offset) {
            case VtdRegs.IQA -> {
                iqa = value;
                head = 0;
                tail = 0;
            }
            case VtdRegs.IQT -> {
                tail = value & (size() - VtdRegs.DESC_SIZE);
                process();
            }
            default -> {
            }
        }
    }

    private long size() {
        return 4096L << (iqa & 0x7);
    }

    private void process() {
        PhysicalMemory memory = unit.memory();
        long base = iqa & VtdEntries.ADDR_MASK;
        while (head != tail) {
            long at = base + head;
            QiDescriptor d = new QiDescriptor(memory.readLong(at), memory.readLong(at + 8), memory.readLong(at + 16),
                    memory.readLong(at + 24));
            if (!execute(d)) {
                unit.setFaultStatus(VtdRegs.FSTS_IQE);
                return;
            }
            head = (head + VtdRegs.DESC_SIZE) % size();
        }
    }

    private boolean execute(QiDescriptor d) {
        switch (d.type()) {
            case QiDescriptor.TYPE_CONTEXT_CACHE, QiDescriptor.TYPE_IOTLB, QiDescriptor.TYPE_DEVICE_TLB,
                    QiDescriptor.TYPE_INTERRUPT_ENTRY_CACHE,
                    QiDescriptor.TYPE_PASID_IOTLB, QiDescriptor.TYPE_PASID_CACHE, QiDescriptor.TYPE_PASID_DEVICE_TLB -> {
                return true;
            }
            case QiDescriptor.TYPE_WAIT -> {
                if ((d.qw0() & QiDescriptor.IWD_STATUS_WRITE) != 0 && unit.memory().contains(d.qw1(), 4)) {
                    unit.memory().writeInt(d.qw1(), (int) (d.qw0() >>> 32));
                }
                return true;
            }
            case QiDescriptor.TYPE_PAGE_GROUP_RESPONSE -> {
                unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-qi", String.format(
                        "%s: page group response RID %04x PASID %d PRGI %d code %#x", unit.config().name(),
                        d.pgrpRid(), d.pgrpPasid(), d.pgrpIndex(), d.pgrpCode()));
                unit.fabric().sendPrgResponse(new PrgResponse(d.pgrpRid(), d.pgrpPasidPresent(), d.pgrpPasid(),
                        d.pgrpIndex(), d.pgrpCode()));
                return true;
            }
            default -> {
                return false;
            }
        }
    }
}
