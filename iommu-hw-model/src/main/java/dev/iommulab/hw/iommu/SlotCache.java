package dev.iommulab.hw.iommu;

/**
 * What the model's caches share: their {@link LruSlots}, and the bookkeeping {@link RecentTranslations} recalls a
 * translation through — the slot of the last hit, touching a slot as a hit would, and the version every change
 * bumps.
 *
 * @param <V> the cached value
 */
abstract class SlotCache<V> {

    final LruSlots<V> slots;
    /** The slot of the entry the last lookup returned, -1 after a miss. */
    int lastHit = -1;

    /** @param capacity entries held; 0 caches nothing */
    SlotCache(int capacity) {
        this.slots = new LruSlots<>(capacity);
    }

    public int size() {
        return slots.size();
    }

    int capacity() {
        return slots.capacity();
    }

    /** The slot of the entry the last lookup returned, -1 after a miss (for {@link RecentTranslations}). */
    int lastHit() {
        return lastHit;
    }

    /** Makes the entry in {@code slot} the most recently used, as a lookup that finds it would. */
    void touch(int slot) {
        slots.touch(slot);
    }

    /** See {@link LruSlots#version()}. */
    long version() {
        return slots.version();
    }
}
