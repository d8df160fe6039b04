package dev.iommulab.hw.iommu;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.Objects;

/**
 * The data a memory write request carries ({@link DmaRequest#data()}), put into memory where the IOMMU performs
 * the write ({@link DmaCompletion#perform}). Either bytes ({@link #of}) or a device's view of its own payload that
 * writes straight into memory, so a posted write needs no array of its own.
 */
public interface WriteData {

    /** How many bytes the write carries. */
    int length();

    /** Stores the bytes at {@code [pa, pa + length())}, which the caller checked lies inside {@code memory}. */
    void writeTo(PhysicalMemory memory, long pa);

    /** The data {@code bytes} (not copied: the caller hands the array over). */
    static WriteData of(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return new WriteData() {
            @Override
            public int length() {
                return bytes.length;
            }

            @Override
            public void writeTo(PhysicalMemory memory, long pa) {
                memory.write(pa, bytes);
            }
        };
    }
}
