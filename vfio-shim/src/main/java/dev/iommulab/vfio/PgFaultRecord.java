package dev.iommulab.vfio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code struct iommu_hwpt_pgfault} as user space decodes it from the fault file (40 bytes, little endian: six
 * u32, an aligned u64, two u32).
 *
 * @param reserved {@code __reserved}, always 0
 * @param length   the length hint, always 0 today
 */
public record PgFaultRecord(int flags, int devId, int pasid, int grpid, int perm, int reserved, long addr, int length,
                            int cookie) {

    /** {@code IOMMU_PGFAULT_PERM_READ}. */
    public static final int PERM_READ = 1;
    /** {@code IOMMU_PGFAULT_PERM_WRITE}. */
    public static final int PERM_WRITE = 1 << 1;
    /** {@code IOMMU_PGFAULT_PERM_EXEC}. */
    public static final int PERM_EXEC = 1 << 2;
    /** {@code IOMMU_PGFAULT_PERM_PRIV}. */
    public static final int PERM_PRIV = 1 << 3;

    /** The records in {@code bytes} (a whole number of 40-byte records, as read() returns them). */
    public static List<PgFaultRecord> decode(byte[] bytes) {
        if (bytes.length % IommufdFault.RECORD_SIZE != 0) {
            throw new IllegalArgumentException(bytes.length + " bytes is not a whole number of records");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<PgFaultRecord> out = new ArrayList<>();
        while (in.hasRemaining()) {
            out.add(new PgFaultRecord(in.getInt(), in.getInt(), in.getInt(), in.getInt(), in.getInt(), in.getInt(),
                    in.getLong(), in.getInt(), in.getInt()));
        }
        return out;
    }

    public boolean lastPage() {
        return (flags & IommufdFault.FLAGS_LAST_PAGE) != 0;
    }

    public boolean pasidValid() {
        return (flags & IommufdFault.FLAGS_PASID_VALID) != 0;
    }

    /**
     * {@code struct iommu_hwpt_page_response} as user space writes it: 8 bytes, cookie then code, little endian, one
     * per answer in order.
     */
    public static byte[] encodeResponses(int[][] cookieAndCode) {
        ByteBuffer out = ByteBuffer.allocate(cookieAndCode.length * IommufdFault.RESPONSE_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int[] r : cookieAndCode) {
            out.putInt(r[0]).putInt(r[1]);
        }
        return out.array();
    }

    /** The {@code {cookie, code}} answers in {@code bytes}, in order (whole 8-byte answers only). */
    public static int[][] decodeResponses(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int[][] out = new int[bytes.length / IommufdFault.RESPONSE_SIZE][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new int[] {in.getInt(), in.getInt()};
        }
        return out;
    }
}
