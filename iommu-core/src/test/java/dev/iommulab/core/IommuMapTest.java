package dev.iommulab.core;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.core.pgtable.IommuProt.IOMMU_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * iommu_map(), iommu_unmap(), iommu_unmap_fast(), iommu_iotlb_sync() and iommu_pgsize() of iommu.c over a VT-d
 * first-stage io-pgtable: what is written is checked with the hardware model's own walk
 * ({@link X86PageTable#walk}), what is gathered with the driver's iotlb_sync calls.
 */
class IommuMapTest {

    private static final long K4 = 1L << 12;
    private static final long M2 = 1L << 21;
    private static final long G1 = 1L << 30;
    private static final long PA = 0x0060_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(64L << 20);
    private final FailureInjector failures = new FailureInjector();
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    private final RecordingOps ops = new RecordingOps().withDomains(frames);
    private final IommuCore core = new IommuCore();
    private final Device dev = core.probeDevice(new PcieEndpoint(new EndpointConfig("nic", 0x10, DeviceProfile.NIC,
            false, false, 0, 1, 0, 4), new EventLoop(1), TimingModel.ESTIMATES), ops);
    private final IommuDomain domain = core.pagingDomainAlloc(dev);
    private final X86PageTable hw = new X86PageTable(memory, 4);

    private WalkResult walk(long iova) {
        return hw.walk(domain.pgtable().root(), iova);
    }

    private long leafSize(long iova) {
        return walk(iova) instanceof WalkResult.Leaf l ? l.pageSize() : 0;
    }

    /** The table pages of the domain and their bytes: what "the page table did not change" means. */
    private List<Object> snapshot() {
        List<Object> s = new ArrayList<>();
        for (long page : domain.pgtable().tablePages()) {
            s.add(page);
            s.add(java.util.Arrays.toString(memory.read(page, 4096)));
        }
        s.add(frames.allocatedFrames());
        return s;
    }

    /**
     * iommu_pgsize(): a 2 MiB-aligned range of 2 MiB + 8 KiB with a 2 MiB-aligned physical address becomes one
     * 2 MiB leaf and two 4 KiB leaves; the walk of the hardware model finds each with its size and address.
     */
    @Test
    void map_alignedRange_splitsIntoLargestPageSizes() {
        IommuMap.map(domain, 2 * M2, PA + M2, M2 + 2 * K4, IOMMU_READ | IOMMU_WRITE);

        assertThat(leafSize(2 * M2)).isEqualTo(M2);
        assertThat(leafSize(3 * M2)).isEqualTo(K4);
        assertThat(leafSize(3 * M2 + K4)).isEqualTo(K4);
        assertThat(leafSize(3 * M2 + 2 * K4)).isZero();
        WalkResult.Leaf leaf = (WalkResult.Leaf) walk(3 * M2 + K4 + 0x10);
        assertThat(leaf.pa()).isEqualTo(PA + 2 * M2 + K4 + 0x10);
        assertThat(leaf.writable()).isTrue();
        assertThat(leaf.user()).as("DMA_FL_PTE_US").isTrue();
        assertThat(IommuMap.iovaToPhys(domain, 2 * M2 + 0x1234)).isEqualTo(PA + M2 + 0x1234);
    }

    /** iommu_pgsize() keeps 4 KiB pages when IOVA and physical address are offset differently in 2 MiB. */
    @Test
    void pgsize_iovaAndPaOffsetDifferently_picksSmallPagesOnly() {
        long bitmap = K4 | M2 | G1;
        long[] count = new long[1];

        assertThat(IommuMap.pgsize(bitmap, M2, M2 + K4, 4 * M2, count)).isEqualTo(K4);
        assertThat(count[0]).isEqualTo(4 * M2 / K4);
        assertThat(IommuMap.pgsize(bitmap, M2 - K4, 3 * M2 - K4, 4 * M2, count)).isEqualTo(K4);
        assertThat(count[0]).as("up to the next 2 MiB boundary").isEqualTo(1);
        assertThat(IommuMap.pgsize(bitmap, 0, 0, 2 * G1, count)).isEqualTo(G1);
        assertThat(count[0]).isEqualTo(2);
    }

    /**
     * iommu_map() refusals change nothing: -EINVAL for an unaligned range or a domain that is not a paging
     * domain, -EINVAL for a mapping neither readable nor writable (__domain_mapping()), -EFAULT beyond the
     * domain's 47-bit aperture, -EEXIST over an existing mapping (with what it mapped before the collision
     * unmapped again).
     */
    @Test
    void map_refused_throwsAndLeavesTablesUnchanged() {
        IommuMap.map(domain, 4 * M2 + 3 * K4, PA, K4, IOMMU_READ);
        List<Object> before = snapshot();

        assertThat(errno(() -> IommuMap.map(domain, 0x800, PA, K4, IOMMU_READ))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> IommuMap.map(ops.identity, 0, PA, K4, IOMMU_READ))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> IommuMap.map(domain, 0, PA, K4, 0))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> IommuMap.map(domain, (1L << 47) - K4, PA, 2 * K4, IOMMU_READ)))
                .isEqualTo(Errno.EFAULT);
        assertThat(errno(() -> IommuMap.map(domain, 4 * M2, PA, 8 * K4, IOMMU_READ))).isEqualTo(Errno.EEXIST);

        assertThat(snapshot()).isEqualTo(before);
        assertThat(leafSize(4 * M2)).isZero();
        assertThat(leafSize(4 * M2 + 3 * K4)).isEqualTo(K4);
    }

    /**
     * A page-table page that cannot be allocated half-way (site {@code frame}): iommu_map() unmaps what it had
     * mapped (one IOTLB sync) and fails with -ENOMEM; the tables, their bytes and the allocator are exactly as
     * before.
     */
    @Test
    void map_frameAllocationFailsHalfway_unmapsWhatItMappedAndThrowsEnomem() {
        IommuMap.map(domain, 0, PA, K4, IOMMU_READ);
        List<Object> before = snapshot();
        failures.failNext(FrameAllocator.SITE, 1);

        // 2 MiB - 8 KiB .. 2 MiB + 8 KiB: the first two pages fit the existing table, the third needs a new one.
        KernelException e = catchThrowableOfType(KernelException.class,
                () -> IommuMap.map(domain, M2 - 2 * K4, PA + M2 - 2 * K4, 4 * K4, IOMMU_READ | IOMMU_WRITE));

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(snapshot()).isEqualTo(before);
        assertThat(ops.syncs).extracting(RecordingOps.Sync::start, RecordingOps.Sync::end)
                .containsExactly(tuple(M2 - 2 * K4, M2 - 1));
        for (long iova = M2 - 2 * K4; iova < M2 + 2 * K4; iova += K4) {
            assertThat(IommuMap.iovaToPhys(domain, iova)).isZero();
        }
    }

    /**
     * Memory runs out half-way on a fresh region, where the first page needed a whole new path of tables: the
     * rollback empties those tables and they are given back, so only the root remains.
     */
    @Test
    void map_memoryRunsOutAfterNewTables_rollbackFreesThem() {
        PhysicalMemory small = new PhysicalMemory((1L << 20) + 4 * K4);
        FrameAllocator few = new FrameAllocator(small, 1L << 20, new FailureInjector());
        RecordingOps tight = new RecordingOps().withDomains(few);
        Device d = core.probeDevice(new PcieEndpoint(new EndpointConfig("nvme", 0x20, DeviceProfile.NVME, false,
                false, 0, 1, 0, 4), new EventLoop(1), TimingModel.ESTIMATES), tight);
        IommuDomain dom = core.pagingDomainAlloc(d);

        // the first page takes the last three frames (PDPT, PD, PT); the second, in the next 2 MiB, finds none
        assertThat(errno(() -> IommuMap.map(dom, G1 + M2 - K4, PA, 2 * K4, IOMMU_READ))).isEqualTo(Errno.ENOMEM);

        assertThat(dom.pgtable().tablePages()).containsExactly(dom.pgtable().root());
        assertThat(few.allocatedFrames()).isEqualTo(1);
        assertThat(IommuMap.iovaToPhys(dom, G1 + M2 - K4)).isZero();
    }

    /**
     * iommu_unmap() gathers every leaf and syncs once; tables it emptied are on the gather's freelist at the
     * sync and given back to the allocator after it.
     */
    @Test
    void unmap_mappedRange_syncsOnceAndFreesEmptiedTablesAfterSync() {
        long framesBefore = frames.allocatedFrames();
        IommuMap.map(domain, G1, PA, 4 * K4, IOMMU_READ);

        long unmapped = IommuMap.unmap(domain, G1, 4 * K4);

        assertThat(unmapped).isEqualTo(4 * K4);
        assertThat(ops.syncs).containsExactly(new RecordingOps.Sync(domain, G1, G1 + 4 * K4 - 1, K4, 3));
        assertThat(frames.allocatedFrames()).isEqualTo(framesBefore);
        assertThat(domain.pgtable().tablePages()).hasSize(1);
    }

    /**
     * iommu_unmap() never splits a leaf: a range starting at a 2 MiB leaf takes it whole (and reports 2 MiB);
     * one starting inside it unmaps nothing; a hole ends the unmap early.
     */
    @Test
    void unmap_largeLeafAndHoles_unmapsWholeLeavesAndStopsAtHoles() {
        IommuMap.map(domain, 2 * M2, PA + M2, M2, IOMMU_READ);
        IommuMap.map(domain, 8 * M2, PA, 2 * K4, IOMMU_READ);

        assertThat(IommuMap.unmap(domain, 2 * M2 + K4, K4)).isZero();
        assertThat(IommuMap.unmap(domain, 2 * M2, K4)).isEqualTo(M2);
        assertThat(IommuMap.unmap(domain, 8 * M2, 4 * K4)).isEqualTo(2 * K4);
        assertThat(IommuMap.unmap(domain, 0x800, K4)).isZero();
        assertThat(domain.pgtable().tablePages()).hasSize(1);
    }

    /**
     * iommu_unmap_fast() gathers without syncing (the driver's iotlb_sync is not called) until
     * iommu_iotlb_sync(); a leaf disjoint from the gathered range or of another size syncs what was gathered
     * first (iommu_iotlb_gather_add_page()).
     */
    @Test
    void unmapFast_gathersUntilSyncAndFlushesOnDisjointPage() {
        IommuMap.map(domain, 0, PA, 2 * K4, IOMMU_READ);
        IommuMap.map(domain, 16 * K4, PA, K4, IOMMU_READ);
        IotlbGather gather = new IotlbGather();

        IommuMap.unmapFast(domain, 0, 2 * K4, gather);
        assertThat(ops.syncs).isEmpty();
        assertThat(gather.start()).isZero();
        assertThat(gather.end()).isEqualTo(2 * K4 - 1);
        IommuMap.unmapFast(domain, 16 * K4, K4, gather);
        assertThat(ops.syncs).containsExactly(new RecordingOps.Sync(domain, 0, 2 * K4 - 1, K4, 0));
        IommuMap.iotlbSync(domain, gather);

        assertThat(ops.syncs).hasSize(2);
        assertThat(ops.syncs.get(1).start()).isEqualTo(16 * K4);
        assertThat(gather.isEmpty()).isTrue();
    }

    /** iommu_map() on a paging-type domain without a page table: -ENODEV (no map_pages / pgsize_bitmap). */
    @Test
    void map_pagingDomainWithoutTable_throwsEnodev() {
        IommuDomain tableless = new IommuDomain(DomainType.UNMANAGED, ops, ops, null);

        assertThat(errno(() -> IommuMap.map(tableless, 0, PA, K4, IOMMU_READ))).isEqualTo(Errno.ENODEV);
        assertThat(IommuMap.unmap(tableless, 0, K4)).isZero();
    }

    /** iommu_iova_to_phys(): the IOVA itself for IDENTITY, 0 for BLOCKED and for what is not mapped. */
    @Test
    void iovaToPhys_identityBlockedAndUnmapped() {
        assertThat(IommuMap.iovaToPhys(ops.identity, 0x1234_5000L)).isEqualTo(0x1234_5000L);
        assertThat(IommuMap.iovaToPhys(ops.blocked, 0x1234_5000L)).isZero();
        assertThat(IommuMap.iovaToPhys(domain, 0x1234_5000L)).isZero();
        assertThat(IommuMap.unmap(ops.blocked, 0, K4)).isZero();
    }

    private static Errno errno(Runnable call) {
        return catchThrowableOfType(KernelException.class, call::run).errno();
    }
}
