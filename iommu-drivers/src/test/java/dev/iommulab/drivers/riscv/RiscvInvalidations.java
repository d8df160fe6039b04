package dev.iommulab.drivers.riscv;

import dev.iommulab.core.IommuCore;
import dev.iommulab.fixtures.drivers.Invalidation;
import dev.iommulab.hw.riscv.RiscvCommand;

/** Decodes RISC-V IOMMU commands (riscv-iommu "Command queue", iommu-bits.h) into the contract's common terms. */
final class RiscvInvalidations {

    private RiscvInvalidations() {
    }

    /** The invalidation {@code c} asks for, or null for a fence or a page response. */
    static Invalidation decode(RiscvCommand c) {
        long qw0 = c.qw0();
        return switch (c.opcode()) {
            case RiscvCommand.OPCODE_IOTINVAL -> {
                int tag = (qw0 >>> 32 & 1) != 0 ? (int) (qw0 >>> 12 & 0xfffff) : -1;
                yield (qw0 >>> 10 & 1) != 0
                        ? new Invalidation(Invalidation.Kind.IOTLB, tag, Invalidation.ANY_PASID,
                                (c.qw1() >>> 10) << 12, 4096)
                        : new Invalidation(Invalidation.Kind.IOTLB, tag, Invalidation.ANY_PASID, 0,
                                Invalidation.EVERYTHING);
            }
            case RiscvCommand.OPCODE_IODIR -> new Invalidation(Invalidation.Kind.CONTEXT, (int) (qw0 >>> 40 & 0xffffff),
                    c.func3() == RiscvCommand.FUNC3_INVAL_PDT ? (int) (qw0 >>> 12 & 0xfffff) : Invalidation.ANY_PASID,
                    0, Invalidation.EVERYTHING);
            case RiscvCommand.OPCODE_ATS -> c.func3() == RiscvCommand.FUNC3_ATS_INVAL ? atsInval(c) : null;
            default -> null;
        };
    }

    /** ATS.INVAL: RID 55:40, PV 32, PID 31:12; the payload's range in the PCIe encoding (S bit 11). */
    private static Invalidation atsInval(RiscvCommand c) {
        int rid = (int) (c.qw0() >>> 40 & 0xffff);
        int pasid = (c.qw0() >>> 32 & 1) != 0 ? (int) (c.qw0() >>> 12 & 0xfffff) : IommuCore.IOMMU_NO_PASID;
        long addr = c.qw1() & ~0xfffL;
        if ((c.qw1() & 1L << 11) == 0) {
            return new Invalidation(Invalidation.Kind.DEVICE_TLB, rid, pasid, addr, 4096);
        }
        int ones = Long.numberOfTrailingZeros(~(addr >>> 12));
        if (12 + ones + 1 >= 63) {
            return new Invalidation(Invalidation.Kind.DEVICE_TLB, rid, pasid, 0, Invalidation.EVERYTHING);
        }
        long size = 1L << (12 + ones + 1);
        return new Invalidation(Invalidation.Kind.DEVICE_TLB, rid, pasid, addr & -size, size);
    }
}
