package dev.iommulab.hw.iommu;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * A record an IOMMU writes into one of its logs in memory (fault or event record, page request), in its
 * vendor's exact byte layout.
 */
public interface QueueRecord {

    /** Writes the record's bytes at {@code pa}, the whole entry (reserved bytes as the vendor writes them). */
    void writeTo(PhysicalMemory memory, long pa);
}
