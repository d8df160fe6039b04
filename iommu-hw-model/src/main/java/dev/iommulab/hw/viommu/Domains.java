package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.viommu.ViommuOptions.Implementation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The device's state behind the request queue: the endpoints the platform put behind it, the domains the driver
 * created, and each domain's mappings (QEMU's {@code s->endpoints} and {@code s->domains} trees). ATTACH, DETACH,
 * MAP and UNMAP are applied here with the answers of virtio 1.x §5.13.6.3-5.13.6.6 (or QEMU's, by
 * {@link Implementation}); a request answered with anything but OK changes nothing, except where QEMU's answer is
 * known to leave a change behind (its ATTACH bypass check after the detach, its UNMAP stopping half-way).
 */
final class Domains {

    /** One MAP: {@code [start, end]} (inclusive) to {@code phys}, with the MAP flags. */
    record Mapping(long start, long end, long phys, int flags) {

        boolean contains(long addr) {
            return Long.compareUnsigned(addr, start) >= 0 && Long.compareUnsigned(addr, end) <= 0;
        }
    }

    static final class Domain {
        final int id;
        final boolean bypass;
        /** Mappings by first address, in unsigned order; they never overlap. */
        final NavigableMap<Long, Mapping> mappings = new TreeMap<>(Long::compareUnsigned);
        final Set<Endpoint> endpoints = new LinkedHashSet<>();

        Domain(int id, boolean bypass) {
            this.id = id;
            this.bypass = bypass;
        }

        /** The mapping holding {@code addr}, or null. */
        Mapping lookup(long addr) {
            Map.Entry<Long, Mapping> e = mappings.floorEntry(addr);
            return e != null && e.getValue().contains(addr) ? e.getValue() : null;
        }

        /** Every mapping that has an address in {@code [start, end]}, in address order. */
        List<Mapping> overlapping(long start, long end) {
            List<Mapping> out = new ArrayList<>();
            Mapping below = lookup(start);
            if (below != null) {
                out.add(below);
            }
            out.addAll(mappings.subMap(start, below == null, end, true).values());
            return out;
        }
    }

    static final class Endpoint {
        final int id;
        final List<ResvRegion> regions;
        Domain domain;
        /** Whether QEMU holds an endpoint object for it (made by ATTACH, deleted by DETACH and by a reset). */
        boolean known;

        Endpoint(int id, List<ResvRegion> regions) {
            this.id = id;
            this.regions = List.copyOf(regions);
        }
    }

    private final ViommuOptions options;
    private final PhysicalMemory memory;
    private final Map<Integer, Endpoint> endpoints = new HashMap<>();
    private final Map<Integer, Domain> domains = new HashMap<>();
    private long version;
    /** Where endpoints not added one by one are found (QEMU: a PCI device on the IOMMU's bus), or null. */
    private PcieFabric fabric;
    private List<ResvRegion> fabricRegions = List.of();

    Domains(ViommuOptions options, PhysicalMemory memory) {
        this.options = options;
        this.memory = memory;
    }

    void addEndpoint(int id, List<ResvRegion> regions) {
        if (endpoints.putIfAbsent(id, new Endpoint(id, regions)) != null) {
            throw new IllegalArgumentException("endpoint " + id + " is already behind this IOMMU");
        }
    }

    /** Every function on {@code fabric} is an endpoint behind the device, with {@code regions} reserved. */
    void endpointsOn(PcieFabric onFabric, List<ResvRegion> regions) {
        this.fabric = onFabric;
        this.fabricRegions = List.copyOf(regions);
    }

    /** The platform's endpoint {@code id}, or null when no such endpoint sits behind the device. */
    Endpoint endpoint(int id) {
        Endpoint ep = endpoints.get(id);
        if (ep == null && fabric != null && fabric.has(id)) {
            ep = new Endpoint(id, fabricRegions);
            endpoints.put(id, ep);
        }
        return ep;
    }

    Domain domain(int id) {
        return domains.get(id);
    }

    int domainCount() {
        return domains.size();
    }

    /**
     * How many times the device's domains, attachments or mappings changed: a request that leaves it as it was
     * changed nothing the guest could tell.
     */
    long version() {
        return version;
    }

    /** What a device reset leaves: no domain, every endpoint unattached and unknown. */
    void reset() {
        version++;
        domains.clear();
        endpoints.values().forEach(e -> {
            e.domain = null;
            e.known = false;
        });
    }

    private boolean spec() {
        return options.implementation() == Implementation.SPEC;
    }

    /** virtio 1.x §5.13.6.3 ATTACH request; QEMU's virtio_iommu_attach(). */
    ViommuStatus attach(ViommuRequest.Attach r) {
        if (spec() && r.reserved() != 0 || (r.flags() & ~ViommuWire.ATTACH_F_BYPASS) != 0) {
            return ViommuStatus.INVAL;
        }
        if (spec() && options.offers(ViommuWire.F_DOMAIN_RANGE) && outsideDomainRange(r.domain())) {
            return ViommuStatus.RANGE;
        }
        Endpoint ep = endpoint(r.endpoint());
        if (ep == null) {
            return ViommuStatus.NOENT;
        }
        boolean bypass = (r.flags() & ViommuWire.ATTACH_F_BYPASS) != 0;
        Domain target = domains.get(r.domain());
        if (spec()) {
            if (target != null && target.bypass != bypass) {
                return ViommuStatus.INVAL;
            }
            if (ep.domain == target && target != null) {
                return ViommuStatus.OK;
            }
        }
        ep.known = true;
        if (ep.domain != null) {
            leave(ep);
        }
        target = domains.get(r.domain());
        if (target != null && target.bypass != bypass) {
            return ViommuStatus.INVAL; // QEMU only: the endpoint stays detached
        }
        if (target == null) {
            target = new Domain(r.domain(), bypass);
            domains.put(target.id, target);
        }
        target.endpoints.add(ep);
        ep.domain = target;
        version++;
        return ViommuStatus.OK;
    }

    /** virtio 1.x §5.13.6.4 DETACH request; QEMU's virtio_iommu_detach(). */
    ViommuStatus detach(ViommuRequest.Detach r) {
        Endpoint ep = endpoint(r.endpoint());
        if (ep == null || !spec() && !ep.known) {
            return ViommuStatus.NOENT;
        }
        Domain d = domains.get(r.domain());
        if (d == null || ep.domain != d) {
            return ViommuStatus.INVAL;
        }
        leave(ep);
        if (!spec()) {
            ep.known = false;
        }
        return ViommuStatus.OK;
    }

    /** The endpoint leaves its domain, which ceases to exist with its mappings when it was the last one. */
    private void leave(Endpoint ep) {
        version++;
        Domain d = ep.domain;
        d.endpoints.remove(ep);
        ep.domain = null;
        if (d.endpoints.isEmpty()) {
            domains.remove(d.id);
        }
    }

    /** virtio 1.x §5.13.6.5 MAP request; QEMU's virtio_iommu_map(). */
    ViommuStatus map(ViommuRequest.Map r, long negotiated) {
        boolean mmio = (r.flags() & ViommuWire.MAP_F_MMIO) != 0;
        if ((r.flags() & ~ViommuWire.MAP_F_MASK) != 0
                || spec() && mmio && !ViommuWire.has(negotiated, ViommuWire.F_MMIO)) {
            return ViommuStatus.INVAL;
        }
        Domain d = domains.get(r.domain());
        ViommuStatus target = checkTarget(d, r.virtStart(), r.virtEnd());
        if (target != ViommuStatus.OK) {
            return target;
        }
        if (spec()) {
            ViommuStatus s = checkMapRange(r);
            if (s != ViommuStatus.OK) {
                return s;
            }
        }
        if (!d.overlapping(r.virtStart(), r.virtEnd()).isEmpty()) {
            return ViommuStatus.INVAL;
        }
        d.mappings.put(r.virtStart(), new Mapping(r.virtStart(), r.virtEnd(), r.physStart(), r.flags()));
        version++;
        return ViommuStatus.OK;
    }

    /**
     * The domain a MAP or UNMAP works on: NOENT when it does not exist, INVAL for a bypass domain (no mappings) or a
     * range that ends before it starts; else OK.
     */
    private static ViommuStatus checkTarget(Domain d, long start, long end) {
        if (d == null) {
            return ViommuStatus.NOENT;
        }
        return d.bypass || Long.compareUnsigned(end, start) < 0 ? ViommuStatus.INVAL : ViommuStatus.OK;
    }

    /** The checks of a MAP only the specification asks for: alignment, the input range, guest memory. */
    private ViommuStatus checkMapRange(ViommuRequest.Map r) {
        long mask = options.granule() - 1;
        if (r.virtEnd() == r.virtStart() && mask != 0) {
            return ViommuStatus.INVAL; // virt_end must be strictly greater than virt_start
        }
        if ((r.virtStart() & mask) != 0 || (r.physStart() & mask) != 0 || (r.virtEnd() + 1 & mask) != 0) {
            return ViommuStatus.RANGE;
        }
        if (Long.compareUnsigned(r.virtStart(), options.inputStart()) < 0
                || Long.compareUnsigned(r.virtEnd(), options.inputEnd()) > 0) {
            return ViommuStatus.RANGE;
        }
        long length = r.virtEnd() - r.virtStart() + 1;
        boolean mmio = (r.flags() & ViommuWire.MAP_F_MMIO) != 0;
        if (!mmio && (length <= 0 || !memory.contains(r.physStart(), length))) {
            return ViommuStatus.FAULT;
        }
        return ViommuStatus.OK;
    }

    /** virtio 1.x §5.13.6.6 UNMAP request; QEMU's virtio_iommu_unmap(). */
    ViommuStatus unmap(ViommuRequest.Unmap r) {
        if (spec() && r.reserved() != 0) {
            return ViommuStatus.INVAL;
        }
        Domain d = domains.get(r.domain());
        ViommuStatus target = checkTarget(d, r.virtStart(), r.virtEnd());
        if (target != ViommuStatus.OK) {
            return target;
        }
        List<Mapping> hit = d.overlapping(r.virtStart(), r.virtEnd());
        for (Mapping m : hit) {
            boolean covered = Long.compareUnsigned(m.start(), r.virtStart()) >= 0
                    && Long.compareUnsigned(m.end(), r.virtEnd()) <= 0;
            if (!covered) {
                return ViommuStatus.RANGE;
            }
            if (!spec()) {
                d.mappings.remove(m.start());
                version++;
            }
        }
        if (!hit.isEmpty() && d.mappings.keySet().removeAll(hit.stream().map(Mapping::start).toList())) {
            version++;
        }
        return ViommuStatus.OK;
    }

    private boolean outsideDomainRange(int domain) {
        return Integer.compareUnsigned(domain, options.domainStart()) < 0
                || Integer.compareUnsigned(domain, options.domainEnd()) > 0;
    }
}
