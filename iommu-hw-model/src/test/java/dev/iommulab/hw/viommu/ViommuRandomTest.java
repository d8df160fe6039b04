package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.DmaCompletion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;

import static dev.iommulab.hw.viommu.ViommuRig.EP;
import static dev.iommulab.hw.viommu.ViommuRig.EP2;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A driver sending random requests — well-formed and hostile alike — against the device, checked after every
 * request against a reference kept by this test from the requests the device answered OK, with the plain meaning
 * of each (virtio 1.x §5.13.6): ATTACH moves the endpoint (a domain left without endpoints is gone, mappings and
 * all; one it is attached to already stays as it is; a bypass domain translates 1:1), DETACH leaves it unattached,
 * MAP adds its range, UNMAP removes the mappings inside its range. Every page each endpoint reads must then reach
 * exactly where the reference says, or fault when it says nothing; a refused request therefore cannot have changed
 * anything either, and a request the specification requires to succeed must. The seed names the sequence: a failing
 * one replays exactly.
 */
class ViommuRandomTest {

    private static final long PAGE = 0x1000;
    private static final int PAGES = 16;
    private static final long GPA = 0x40_0000;
    private static final int[] ENDPOINTS = {EP, EP2};

    /** The reference: mappings by domain (first page to [last page, first frame]), and each endpoint's domain. */
    private final Map<Integer, TreeMap<Long, long[]>> domains = new HashMap<>();
    private final Map<Integer, Integer> attached = new HashMap<>();
    /** Bypass domains (ATTACH with the bypass flag made them): their endpoints reach every address 1:1. */
    private final Set<Integer> bypass = new HashSet<>();

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 40);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomRequests_seed_translationMatchesReference(long seed) {
        Random random = new Random(seed);
        ViommuRig rig = new ViommuRig().boot(256);
        for (int op = 0; op < 150; op++) {
            ViommuRequest req = next(random);
            boolean mustSucceed = wellFormed(req);
            ViommuStatus status = rig.send(req);
            if (mustSucceed) {
                assertThat(status).as("seed %d op %d %s", seed, op, req).isEqualTo(ViommuStatus.OK);
            }
            if (status == ViommuStatus.OK) {
                apply(req);
            }
            for (int ep : ENDPOINTS) {
                for (long page = 0; page < PAGES; page++) {
                    DmaCompletion c = rig.read(ep, page * PAGE + 8, 8);
                    long expected = expected(ep, page);
                    assertThat(c.ok() ? c.pa() : -1).as("seed %d op %d %s -> %s; endpoint %d page %d", seed, op,
                            req, status, ep, page).isEqualTo(expected < 0 ? -1 : expected + 8);
                }
            }
            rig.takeEvents();
        }
    }

    private ViommuRequest next(Random r) {
        int domain = 1 + r.nextInt(3);
        int endpoint = r.nextInt(8) == 0 ? 0x99 : ENDPOINTS[r.nextInt(2)];
        long first = r.nextInt(PAGES);
        long last = Math.min(PAGES - 1, first + r.nextInt(4));
        return switch (r.nextInt(8)) {
            case 0, 1 -> new ViommuRequest.Attach(domain, endpoint, r.nextInt(10) == 0 ? 1 : 0);
            case 2 -> new ViommuRequest.Detach(domain, endpoint);
            case 3, 4, 5 -> new ViommuRequest.Map(domain, first * PAGE,
                    (last + 1) * PAGE - (r.nextInt(12) == 0 ? 2 : 1), GPA + r.nextInt(64) * PAGE, 1 + r.nextInt(3));
            default -> new ViommuRequest.Unmap(domain, first * PAGE, (last + 1) * PAGE - 1);
        };
    }

    /**
     * Whether the specification requires {@code req} to succeed now: an ATTACH of a known endpoint without flags to a
     * new or translating domain; a granule-aligned MAP of readable memory into a translating domain where nothing is
     * mapped; an UNMAP of a translating domain that splits no mapping.
     */
    private boolean wellFormed(ViommuRequest req) {
        if (req instanceof ViommuRequest.Attach a) {
            return a.endpoint() != 0x99 && a.flags() == 0 && !bypass.contains(a.domain());
        }
        if (req instanceof ViommuRequest.Map m) {
            TreeMap<Long, long[]> d = domains.get(m.domain());
            long first = m.virtStart() / PAGE;
            long last = (m.virtEnd() + 1) / PAGE - 1;
            return d != null && !bypass.contains(m.domain()) && (m.virtEnd() + 1) % PAGE == 0
                    && LongStream.rangeClosed(first, last).noneMatch(p -> mapped(d, p) != null);
        }
        if (req instanceof ViommuRequest.Unmap u) {
            TreeMap<Long, long[]> d = domains.get(u.domain());
            long first = u.virtStart() / PAGE;
            long last = u.virtEnd() / PAGE;
            if (d == null || bypass.contains(u.domain())) {
                return false;
            }
            Map.Entry<Long, long[]> head = mapped(d, first);
            Map.Entry<Long, long[]> tail = mapped(d, last);
            return (head == null || head.getKey() == first) && (tail == null || tail.getValue()[0] == last);
        }
        return false;
    }

    /** The mapping of domain {@code d} holding {@code page}, or null. */
    private static Map.Entry<Long, long[]> mapped(TreeMap<Long, long[]> d, long page) {
        Map.Entry<Long, long[]> e = d.floorEntry(page);
        return e != null && e.getValue()[0] >= page ? e : null;
    }

    private void apply(ViommuRequest req) {
        if (req instanceof ViommuRequest.Attach a) {
            if (Integer.valueOf(a.domain()).equals(attached.get(a.endpoint()))) {
                return; // attached there already: nothing to do
            }
            leave(a.endpoint());
            if (!domains.containsKey(a.domain()) && (a.flags() & ViommuWire.ATTACH_F_BYPASS) != 0) {
                bypass.add(a.domain());
            }
            domains.computeIfAbsent(a.domain(), d -> new TreeMap<>());
            attached.put(a.endpoint(), a.domain());
        } else if (req instanceof ViommuRequest.Detach d) {
            leave(d.endpoint());
        } else if (req instanceof ViommuRequest.Map m) {
            domains.get(m.domain()).put(m.virtStart() / PAGE,
                    new long[] {m.virtEnd() / PAGE, m.physStart(), m.flags()});
        } else if (req instanceof ViommuRequest.Unmap u) {
            domains.get(u.domain()).subMap(u.virtStart() / PAGE, true, u.virtEnd() / PAGE, true).clear();
        }
    }

    private void leave(int endpoint) {
        Integer old = attached.remove(endpoint);
        if (old != null && !attached.containsValue(old)) {
            domains.remove(old);
            bypass.remove(old);
        }
    }

    /** Where the reference says a read of {@code page} by {@code ep} lands, or -1 for a fault. */
    private long expected(int ep, long page) {
        Integer d = attached.get(ep);
        if (d == null) {
            return -1;
        }
        if (bypass.contains(d)) {
            return page * PAGE;
        }
        Map.Entry<Long, long[]> e = domains.get(d).floorEntry(page);
        if (e == null || e.getValue()[0] < page || (e.getValue()[2] & ViommuWire.MAP_F_READ) == 0) {
            return -1;
        }
        return e.getValue()[1] + (page - e.getKey()) * PAGE;
    }
}
