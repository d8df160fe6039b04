package dev.iommulab.hw.iommu;

import java.util.Objects;

/**
 * Recent translations in front of a vendor's caches, the way hardware keeps a last-translation register per
 * requester in front of its IOTLB: a small direct-mapped table from a request to the result the vendor computed
 * for it, together with the cache entries that result came from. Behaviourally invisible by construction — it
 * answers only what the caches would answer, with the same effect on them:
 * <ul>
 *   <li>A result is recorded only when every cache the request consulted hit (a structure cache for the device,
 *       one for the process or PASID when the request used it, and the IOTLB) and none of them changed while the
 *       request was handled; so the result depends on nothing but those entries, the request and the root
 *       pointer the vendor passes (VT-d RTADDR, RISC-V {@code ddtp}) — provided the vendor's path from those hits
 *       to the result reads no other mutable state (memory, registers), which the vendor guarantees.</li>
 *   <li>It is used only while the three caches hold exactly what they held then ({@link #epoch}: every insert,
 *       replaced value, eviction and invalidation of an entry changes it), so any invalidation that removes an
 *       entry — whatever its granularity — and any fill make every recorded result unusable. An invalidation
 *       that removes nothing leaves the caches, and so the answers, as they were.</li>
 *   <li>Using it makes the entries it came from the most recently used, in the same caches, as the lookups it
 *       replaces would have, so eviction order is unchanged.</li>
 * </ul>
 * What it saves is the hashed lookups and the checks between them: a hit is a key comparison and three
 * recency updates.
 *
 * @param <K> the vendor's request, compared with {@code equals} (a record of everything the result depends on
 *            besides the caches and the root pointer)
 * @param <R> the vendor's result for it
 */
public final class RecentTranslations<K, R> {

    private final LongLruCache<?> devices;
    private final LongLruCache<?> processes;
    private final Iotlb<?> iotlb;
    private final Object[] requests;
    private final Object[] results;
    private final long[] roots;
    private final long[] epochs;
    private final int[] deviceSlots;
    /** -1 when the request did not use the process cache. */
    private final int[] processSlots;
    private final int[] iotlbSlots;
    private final int mask;

    /**
     * @param entries   table size, a power of two; 0 keeps nothing (nor does a device cache or IOTLB of
     *                  capacity 0, which never hits)
     * @param devices   the cache of per-device structures (VT-d context cache, RISC-V DDT cache)
     * @param processes the cache of per-PASID structures (VT-d PASID cache, RISC-V PDT cache)
     */
    public RecentTranslations(int entries, LongLruCache<?> devices, LongLruCache<?> processes, Iotlb<?> iotlb) {
        if (entries < 0 || Integer.bitCount(entries) > 1) {
            throw new IllegalArgumentException("entries must be 0 or a power of two: " + entries);
        }
        this.devices = Objects.requireNonNull(devices, "devices");
        this.processes = Objects.requireNonNull(processes, "processes");
        this.iotlb = Objects.requireNonNull(iotlb, "iotlb");
        int kept = devices.capacity() == 0 || iotlb.capacity() == 0 ? 0 : entries;
        this.requests = new Object[kept];
        this.results = new Object[kept];
        this.roots = new long[kept];
        this.epochs = new long[kept];
        this.deviceSlots = new int[kept];
        this.processSlots = new int[kept];
        this.iotlbSlots = new int[kept];
        this.mask = kept - 1;
    }

    /** The caches' content version; take it before handling a request and pass it to both methods. */
    public long epoch() {
        return devices.version() + processes.version() + iotlb.version();
    }

    /**
     * The result recorded for {@code request} under {@code root} if the caches are still at {@code epoch} as they
     * were then; its cache entries are now the most recently used. Null otherwise.
     *
     * @param hash any hash of the request's fields (where it lives in the table)
     */
    @SuppressWarnings("unchecked")
    public R lookup(int hash, K request, long root, long epoch) {
        if (requests.length == 0) {
            return null;
        }
        int i = index(hash);
        Object recorded = requests[i];
        if (recorded == null || epochs[i] != epoch || roots[i] != root || !recorded.equals(request)) {
            return null;
        }
        devices.touch(deviceSlots[i]);
        if (processSlots[i] >= 0) {
            processes.touch(processSlots[i]);
        }
        iotlb.touch(iotlbSlots[i]);
        return (R) results[i];
    }

    /**
     * Records {@code result} for {@code request}, which the vendor has just handled from {@code epoch} on through
     * a hit in the device cache, in the process cache when {@code usedProcesses}, and in the IOTLB, in that
     * order and with no other lookup in those caches since. Ignored unless all of those were hits and the caches
     * are still at {@code epoch}.
     */
    public void record(int hash, K request, long root, long epoch, boolean usedProcesses, R result) {
        int device = devices.lastHit();
        int process = usedProcesses ? processes.lastHit() : -1;
        int translation = iotlb.lastHit();
        if (requests.length == 0 || device < 0 || usedProcesses && process < 0 || translation < 0
                || epoch != epoch()) {
            return;
        }
        int i = index(hash);
        requests[i] = request;
        results[i] = result;
        roots[i] = root;
        epochs[i] = epoch;
        deviceSlots[i] = device;
        processSlots[i] = process;
        iotlbSlots[i] = translation;
    }

    private int index(int hash) {
        int h = hash * 0x9e37_79b9;
        return (h ^ h >>> 16) & mask;
    }
}
