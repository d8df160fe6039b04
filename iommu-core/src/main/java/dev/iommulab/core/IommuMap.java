package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;
import java.util.ArrayList;
import java.util.List;

/**
 * Mapping in a paging domain, the counterpart of iommu_map(), iommu_unmap(), iommu_unmap_fast(),
 * iommu_iotlb_sync(), iommu_flush_iotlb_all() and iommu_iova_to_phys() in drivers/iommu/iommu.c: ranges are
 * split into the largest page sizes the domain supports ({@code iommu_pgsize()}), written through the domain's
 * io-pgtable, and unmapped leaves are gathered for one IOTLB (and device-TLB) sync by the driver
 * ({@link IommuDomainOps#iotlbSync}). Called from kernel context; nothing here blocks.
 */
public final class IommuMap {

    private IommuMap() {
    }

    /**
     * Counterpart of iommu_map(): maps {@code [iova, iova + size)} to {@code paddr} with {@code prot}
     * ({@link dev.iommulab.core.pgtable.IommuProt}). A failure half-way unmaps what was mapped (with its IOTLB
     * sync) before it is reported, so a failed call leaves the domain as it was.
     *
     * @throws KernelException EINVAL for a domain that is not a paging domain, or an {@code iova},
     *                         {@code paddr} or {@code size} not aligned to the smallest page size; ENODEV for a
     *                         paging domain without a page table; and what the io-pgtable reports (EFAULT beyond
     *                         the domain's IOVA space, EEXIST over a mapping, ENOMEM without table pages)
     */
    public static void map(IommuDomain domain, long iova, long paddr, long size, int prot) {
        mappable(domain, true);
        long minPagesz = Long.lowestOneBit(domain.pgsizeBitmap());
        if (((iova | paddr | size) & (minPagesz - 1)) != 0 || size < 0) {
            throw new KernelException(Errno.EINVAL, "iova", String.format(
                    "unaligned: iova %#x pa %#x size %#x min_pagesz %#x", iova, paddr, size, minPagesz));
        }
        long done = 0;
        while (done < size) {
            long[] count = new long[1];
            long pgsize = pgsize(domain.pgsizeBitmap(), iova + done, paddr + done, size - done, count);
            IoPgtable.Mapped m = domain.ops().mapPages(domain, iova + done, paddr + done, pgsize, count[0], prot);
            done += m.bytes();
            if (!m.ok()) {
                if (done > 0) {
                    unmap(domain, iova, done);
                }
                throw m.error();
            }
        }
        try {
            domain.ops().iotlbSyncMap(domain, iova, size);
        } catch (KernelException e) {
            unmap(domain, iova, size);
            throw e;
        }
    }

    /**
     * Counterpart of iommu_unmap(): {@link #unmapFast} and then one {@link #iotlbSync}. Returns the bytes
     * unmapped: 0 for a domain that is not a paging domain or an unaligned range; less than {@code size} when
     * a hole is met; more when the range ends inside a larger page (which goes whole).
     */
    public static long unmap(IommuDomain domain, long iova, long size) {
        IotlbGather gather = new IotlbGather();
        long unmapped = unmapFast(domain, iova, size, gather);
        iotlbSync(domain, gather);
        return unmapped;
    }

    /**
     * Counterpart of iommu_unmap_fast(): removes the leaves and gathers them in {@code gather} without syncing
     * the IOTLB; until {@link #iotlbSync}, the IOMMU and the device's ATC may still translate the range from
     * their caches. (A gather that meets a disjoint range or another page size syncs what it holds first.)
     */
    public static long unmapFast(IommuDomain domain, long iova, long size, IotlbGather gather) {
        long minPagesz = Long.lowestOneBit(domain.pgsizeBitmap());
        if (!mappable(domain, false) || ((iova | size) & (minPagesz - 1)) != 0 || size <= 0) {
            return 0;
        }
        IoPgtable.UnmapSink sink = new IoPgtable.UnmapSink() {
            @Override
            public void page(long at, long pageSize) {
                if (!gather.queued()) {
                    gather.addPage(domain, at, pageSize);
                }
            }

            @Override
            public void freeTable(long frame) {
                gather.addFreeTable(frame);
            }
        };
        long unmapped = 0;
        while (unmapped < size) {
            long[] count = new long[1];
            long pgsize = pgsize(domain.pgsizeBitmap(), iova + unmapped, iova + unmapped, size - unmapped, count);
            long n = domain.ops().unmapPages(domain, iova + unmapped, pgsize, count[0], sink);
            if (n == 0) {
                break;
            }
            unmapped += n;
        }
        return unmapped;
    }

    /**
     * Counterpart of iommu_iotlb_sync(): the driver invalidates the gathered range in the IOTLB and the
     * device-TLBs ({@link IommuDomainOps#iotlbSync}); then the unlinked table pages are freed and the gather is
     * emptied. Nothing happens for an empty gather.
     */
    public static void iotlbSync(IommuDomain domain, IotlbGather gather) {
        if (gather.isEmpty() && gather.freelist().isEmpty()) {
            return;
        }
        domain.ops().iotlbSync(domain, gather);
        List<Long> tables = new ArrayList<>(gather.freelist());
        gather.init();
        if (domain.pgtable() != null) {
            domain.pgtable().putPages(tables);
        }
    }

    /** Counterpart of iommu_flush_iotlb_all(): the driver invalidates everything the domain may have cached. */
    public static void flushIotlbAll(IommuDomain domain) {
        domain.ops().flushIotlbAll(domain);
    }

    /**
     * Counterpart of iommu_iova_to_phys(): {@code iova} itself for an IDENTITY domain, 0 for a BLOCKED domain,
     * else what the page table maps (0 when nothing).
     */
    public static long iovaToPhys(IommuDomain domain, long iova) {
        if (domain.type() == DomainType.IDENTITY) {
            return iova;
        }
        return mappable(domain, false) ? domain.ops().iovaToPhys(domain, iova) : 0;
    }

    /** Whether {@code domain} is a paging domain with page sizes; with {@code strict}, throws when not. */
    private static boolean mappable(IommuDomain domain, boolean strict) {
        if (!domain.type().isPaging()) {
            if (strict) {
                throw new KernelException(Errno.EINVAL, "domain", domain.type() + " is not a paging domain");
            }
            return false;
        }
        if (domain.pgsizeBitmap() == 0) {
            if (strict) {
                throw new KernelException(Errno.ENODEV, "domain", "paging domain without a page table");
            }
            return false;
        }
        return true;
    }

    /**
     * Counterpart of iommu_pgsize(): the largest page size of {@code bitmap} that fits {@code size} and the
     * alignment of {@code iova} and {@code paddr}; {@code count[0]} gets how many such pages to map before a
     * larger size becomes possible.
     */
    static long pgsize(long bitmap, long iova, long paddr, long size, long[] count) {
        long addrMerge = iova | paddr;
        long pgsizes = bitmap & genmask(63 - Long.numberOfLeadingZeros(size));
        if (addrMerge != 0) {
            pgsizes &= genmask(Long.numberOfTrailingZeros(addrMerge));
        }
        if (pgsizes == 0) {
            throw new IllegalStateException(String.format("no page size for %#x at %#x", size, iova));
        }
        int idx = 63 - Long.numberOfLeadingZeros(pgsizes);
        long pgsize = 1L << idx;
        long larger = bitmap & ~genmask(idx);
        long span = size;
        if (larger != 0) {
            long next = Long.lowestOneBit(larger);
            if (((iova ^ paddr) & (next - 1)) == 0) {
                long offset = next - (addrMerge & (next - 1));
                if (offset + next > 0 && offset + next <= size) {
                    span = offset;
                }
            }
        }
        count[0] = span >>> idx;
        return pgsize;
    }

    /** GENMASK(h, 0). */
    private static long genmask(int h) {
        return h >= 63 ? -1L : (1L << (h + 1)) - 1;
    }
}
