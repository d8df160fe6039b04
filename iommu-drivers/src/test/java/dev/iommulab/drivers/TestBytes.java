package dev.iommulab.drivers;

/** Byte patterns for DMA payloads, so a misplaced or shifted byte in memory shows. */
public final class TestBytes {

    private TestBytes() {
    }

    /** {@code size} bytes counting up from {@code seed} (wrapping at 256). */
    public static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }
}
