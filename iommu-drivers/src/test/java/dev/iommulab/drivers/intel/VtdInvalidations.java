package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuCore;
import dev.iommulab.fixtures.drivers.Invalidation;
import dev.iommulab.hw.vtd.QiDescriptor;

/** Decodes VT-d invalidation descriptors (the QI_* layouts of intel/iommu.h) into the contract's common terms. */
final class VtdInvalidations {

    private VtdInvalidations() {
    }

    /** The invalidation {@code d} asks for, or null for a wait or a page group response. */
    static Invalidation decode(QiDescriptor d) {
        int did = (int) (d.qw0() >>> 16 & 0xffff);
        int granularity = (int) (d.qw0() >>> 4 & 0x3);
        int pasid = (int) (d.qw0() >>> 32 & 0xfffff);
        return switch (d.type()) {
            case QiDescriptor.TYPE_IOTLB -> granularity == QiDescriptor.IOTLB_PAGE
                    ? masked(Invalidation.Kind.IOTLB, did, Invalidation.ANY_PASID, d.qw1())
                    : everything(Invalidation.Kind.IOTLB, did, Invalidation.ANY_PASID);
            case QiDescriptor.TYPE_PASID_IOTLB -> granularity == QiDescriptor.PIOTLB_PAGE
                    ? masked(Invalidation.Kind.IOTLB, did, pasid, d.qw1())
                    : everything(Invalidation.Kind.IOTLB, did, pasid);
            case QiDescriptor.TYPE_DEVICE_TLB -> sized((int) (d.qw0() >>> 32 & 0xffff), IommuCore.IOMMU_NO_PASID,
                    d.qw1(), (d.qw1() & 1) != 0);
            case QiDescriptor.TYPE_PASID_DEVICE_TLB -> sized(did, pasid, d.qw1(), (d.qw1() & 1L << 11) != 0);
            case QiDescriptor.TYPE_CONTEXT_CACHE, QiDescriptor.TYPE_PASID_CACHE,
                 QiDescriptor.TYPE_INTERRUPT_ENTRY_CACHE -> everything(Invalidation.Kind.CONTEXT, did, pasid);
            default -> null;
        };
    }

    private static Invalidation everything(Invalidation.Kind kind, int target, int pasid) {
        return new Invalidation(kind, target, pasid, 0, Invalidation.EVERYTHING);
    }

    /** Page-selective: 2^AM pages at the address (AM in qword 1 bits 5:0). */
    private static Invalidation masked(Invalidation.Kind kind, int did, int pasid, long qw1) {
        return new Invalidation(kind, did, pasid, qw1 & ~0xfffL, 4096L << (qw1 & 0x3f));
    }

    /** A device-TLB range: with S, the trailing ones above bit 12 give the size (PCIe ATS encoding). */
    private static Invalidation sized(int sid, int pasid, long qw1, boolean s) {
        long addr = qw1 & ~0xfffL;
        if (!s) {
            return new Invalidation(Invalidation.Kind.DEVICE_TLB, sid, pasid, addr, 4096);
        }
        int ones = Long.numberOfTrailingZeros(~(addr >>> 12));
        if (12 + ones + 1 >= 63) {
            return everything(Invalidation.Kind.DEVICE_TLB, sid, pasid);
        }
        long size = 1L << (12 + ones + 1);
        return new Invalidation(Invalidation.Kind.DEVICE_TLB, sid, pasid, addr & -size, size);
    }
}
