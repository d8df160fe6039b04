package dev.iommulab.drivers.virtio;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.drivers.DriverDomain;
import dev.iommulab.hw.viommu.ViommuRequest;
import dev.iommulab.hw.viommu.ViommuWire;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * {@code struct viommu_domain}: a domain of the virtio-iommu driver. The driver keeps its mappings itself
 * ({@code vdomain->mappings}, an interval tree in Linux, here ordered by first address) and tells the device with MAP
 * and UNMAP requests while endpoints are attached; the device forgets a domain when its last endpoint leaves, so the
 * first endpoint to attach again has every mapping replayed. The identity domain is the driver's static bypass
 * domain: its attach is an ATTACH with {@code VIRTIO_IOMMU_ATTACH_F_BYPASS} to the reserved identity ID.
 */
final class ViommuDomain extends DriverDomain {

    /** {@code struct viommu_mapping}: {@code [start, last]} to {@code paddr} with the MAP flags. */
    private record Mapping(long start, long last, long paddr, int flags) {
    }

    private final ViommuDev viommu;
    /** The domain ID the device knows; the identity ID for the identity domain. */
    final int id;
    private final boolean identity;
    private final NavigableMap<Long, Mapping> mappings = new TreeMap<>(Long::compareUnsigned);
    /** {@code vdomain->nr_endpoints}. */
    private int nrEndpoints;

    private ViommuDomain(ViommuDriver owner, ViommuDev viommu, int id, boolean identity) {
        super(identity ? ops -> new IommuDomain(DomainType.IDENTITY, owner, ops, null)
                : ops -> IommuDomain.paging(owner, ops, viommu.pgsizeBitmap(), viommu.inputEnd()));
        this.viommu = viommu;
        this.id = id;
        this.identity = identity;
    }

    /** viommu_domain_alloc_paging() once the ID is allocated. */
    static ViommuDomain paging(ViommuDriver owner, ViommuDev viommu, int id) {
        return new ViommuDomain(owner, viommu, id, false);
    }

    /** {@code viommu_identity_domain}. */
    static ViommuDomain identity(ViommuDriver owner, ViommuDev viommu, int identityId) {
        return new ViommuDomain(owner, viommu, identityId, true);
    }

    int nrEndpoints() {
        return nrEndpoints;
    }

    /**
     * Counterpart of viommu_attach_dev() (and of viommu_attach_identity_domain() for the identity domain): the old
     * domain loses the endpoint first (the device detaches it implicitly), then ATTACH is sent and waited for; the
     * first endpoint of a paging domain has its mappings replayed.
     *
     * @throws KernelException the errno of the device's status
     */
    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        ViommuEndpoint vdev = viommu.info(dev);
        if (vdev.ridDomain() != null) {
            vdev.ridDomain().nrEndpoints--;
        }
        int flags = identity ? ViommuWire.ATTACH_F_BYPASS : 0;
        check(viommu.requests().sendSync(new ViommuRequest.Attach(id, vdev.id(), flags).encode(),
                ViommuWire.TAIL_BYTES, null), "ATTACH of " + dev);
        if (!identity && nrEndpoints == 0) {
            replayMappings();
        }
        nrEndpoints++;
        vdev.setAttached(IommuCore.IOMMU_NO_PASID, this);
    }

    /**
     * Counterpart of viommu_replay_mappings(): every mapping sent again, each waited for; the first failure stops it.
     */
    private void replayMappings() {
        for (Mapping m : mappings.values()) {
            check(viommu.requests().sendSync(mapRequest(m), ViommuWire.TAIL_BYTES, null), "MAP replay");
        }
    }

    private byte[] mapRequest(Mapping m) {
        return new ViommuRequest.Map(id, m.start(), m.last(), m.paddr(), m.flags()).encode();
    }

    private static void check(int ret, String what) {
        if (ret != 0) {
            throw new KernelException(Errno.fromReturn(ret), "dev", what + " failed: " + ret);
        }
    }

    /**
     * Counterpart of viommu_map_pages(): the mapping goes into the domain's tree and, while endpoints are attached, a
     * MAP request is queued without waiting (iotlb_sync_map sends it). A prot the device cannot express is EINVAL.
     */
    @Override
    public IoPgtable.Mapped mapPages(IommuDomain domain, long iova, long paddr, long pgsize, long pgcount, int prot) {
        long size = pgsize * pgcount;
        int flags = ((prot & IommuProt.IOMMU_READ) != 0 ? ViommuWire.MAP_F_READ : 0)
                | ((prot & IommuProt.IOMMU_WRITE) != 0 ? ViommuWire.MAP_F_WRITE : 0)
                | ((prot & IommuProt.IOMMU_MMIO) != 0 ? ViommuWire.MAP_F_MMIO : 0);
        if ((flags & ~viommu.mapFlags()) != 0) {
            return new IoPgtable.Mapped(0, new KernelException(Errno.EINVAL, "prot", "map flags " + flags));
        }
        Mapping m = new Mapping(iova, iova + size - 1, paddr, flags);
        mappings.put(iova, m);
        if (nrEndpoints > 0) {
            try {
                viommu.requests().add(mapRequest(m));
            } catch (KernelException e) {
                delMappings(iova, m.last());
                return new IoPgtable.Mapped(0, e);
            }
        }
        return new IoPgtable.Mapped(size, null);
    }

    /**
     * Counterpart of viommu_unmap_pages(): removes the mappings covering the range, whole (0 when fewer bytes than
     * asked were mapped, or a mapping starts before {@code iova}); with endpoints attached an UNMAP is queued, which
     * the IOTLB sync sends. The range goes to {@code sink} so that the core calls that sync (Linux calls iotlb_sync
     * whatever the gather holds).
     */
    @Override
    public long unmapPages(IommuDomain domain, long iova, long pgsize, long pgcount, IoPgtable.UnmapSink sink) {
        long size = pgsize * pgcount;
        long unmapped = delMappings(iova, iova + size - 1);
        if (Long.compareUnsigned(unmapped, size) < 0) {
            return 0;
        }
        if (nrEndpoints == 0) {
            return unmapped; // the device forgot every mapping when the last endpoint left
        }
        try {
            viommu.requests().add(new ViommuRequest.Unmap(id, iova, iova + unmapped - 1).encode());
        } catch (KernelException e) {
            return 0;
        }
        sink.page(iova, unmapped);
        return unmapped;
    }

    /**
     * Counterpart of viommu_del_mappings(): removes whole mappings from the first overlapping one; stops at one
     * starting earlier.
     */
    private long delMappings(long iova, long last) {
        long unmapped = 0;
        Map.Entry<Long, Mapping> below = mappings.lowerEntry(iova);
        if (below != null && Long.compareUnsigned(below.getValue().last(), iova) >= 0) {
            return 0; // trying to split a mapping
        }
        for (var it = mappings.subMap(iova, true, last, true).values().iterator(); it.hasNext(); ) {
            Mapping m = it.next();
            unmapped += m.last() - m.start() + 1;
            it.remove();
        }
        return unmapped;
    }

    /** Counterpart of viommu_iova_to_phys(): from the driver's own tree, not the device. */
    @Override
    public long iovaToPhys(IommuDomain domain, long iova) {
        Map.Entry<Long, Mapping> e = mappings.floorEntry(iova);
        if (e == null || Long.compareUnsigned(e.getValue().last(), iova) < 0) {
            return 0;
        }
        return e.getValue().paddr() + (iova - e.getValue().start());
    }

    /** Counterpart of viommu_iotlb_sync(): waits for every queued request. */
    @Override
    public void iotlbSync(IommuDomain domain, IotlbGather gather) {
        viommu.requests().sync();
    }

    /**
     * Counterpart of viommu_iotlb_sync_map(): sends the queued MAP requests and waits, when an endpoint is attached.
     */
    @Override
    public void iotlbSyncMap(IommuDomain domain, long iova, long size) {
        if (nrEndpoints > 0) {
            viommu.requests().sync();
        }
    }

    /** Counterpart of viommu_flush_iotlb_all(). */
    @Override
    public void flushIotlbAll(IommuDomain domain) {
        if (nrEndpoints > 0) {
            viommu.requests().sync();
        }
    }

    /**
     * Counterpart of viommu_domain_free(): the ID goes back; the device already forgot the domain or will with its last
     * endpoint.
     */
    @Override
    public void free(IommuDomain domain) {
        if (!identity) {
            viommu.freeDomainId(id);
        }
    }
}
