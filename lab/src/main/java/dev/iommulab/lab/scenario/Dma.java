package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * Step {@code dma}: the device performs DMA, through SVA with {@code process}, else through its RID domain. Without
 * {@code process} and without {@code addr} it goes through the DMA API: the lab, as the device's driver, maps a
 * fresh buffer with dma_map_single(), the device uses the IOVA it returned, and the lab unmaps it when the DMA ends.
 *
 * @param device declared device name
 * @param addr first address (IOVA, or process virtual address with {@code process}); null for the DMA API form,
 *             which has no {@code process}
 * @param size length in bytes, > 0 (with {@code addr}: {@code addr + size} at most {@code Long.MAX_VALUE})
 * @param access one of {@link #ACCESSES}
 * @param process declared process whose PASID is used, or {@code null} for the RID domain
 * @param privileged whether the request is privileged (supervisor)
 * @param pasid a raw PASID (one attached through iommufd), or {@code null}; exclusive with {@code process}
 * @param descriptor where the device first fetches a {@link #DESCRIPTOR_BYTES}-byte descriptor (same address space
 *                   as {@code addr}), or {@code null}; a failed fetch leaves the device non-functional until FLR
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Dma(String device, Long addr, long size, String access, String process, boolean privileged,
                  Integer pasid, Long descriptor, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Access kinds of DMA and page requests. */
    public static final List<String> ACCESSES = List.of("read", "write", "exec");
    /** Bytes of the descriptor a {@code descriptor} makes the device fetch first (a NIC's receive descriptor). */
    public static final int DESCRIPTOR_BYTES = 16;

    /** A {@code dma} without a raw PASID or a descriptor. */
    public Dma(String device, Long addr, long size, String access, String process, boolean privileged, Long atNs,
               SourceLocation location) {
        this(device, addr, size, access, process, privileged, null, null, atNs, location);
    }

    /** Validates the fields. */
    public Dma {
        Checks.name(device, "device");
        Checks.positive(size, "size");
        if (addr != null) {
            Checks.end(Checks.nonNegative(addr, "addr"), size, "size");
        } else if (process != null) {
            throw new IllegalArgumentException("addr: required with process");
        }
        Checks.oneOf(access, ACCESSES, "access");
        if (process != null) {
            Checks.name(process, "process");
        }
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        if (pasid != null && (process != null || addr == null)) {
            throw new IllegalArgumentException("pasid: needs addr and excludes process");
        }
        if (descriptor != null && (addr == null || descriptor < 0 || (descriptor & 0xfff) + DESCRIPTOR_BYTES > 4096)) {
            throw new IllegalArgumentException("descriptor: needs addr, and its 16 bytes stay within one 4 KiB page");
        }
        Checks.step(atNs, location);
    }

    /** Whether this is the DMA API form (no {@code addr}, no {@code process}). */
    public boolean viaDmaApi() {
        return addr == null;
    }
}
