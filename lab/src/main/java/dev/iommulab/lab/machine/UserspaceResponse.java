package dev.iommulab.lab.machine;

import dev.iommulab.vfio.IommufdFault;
import dev.iommulab.vfio.UserspaceDriver;
import java.util.List;

/**
 * How each process's user-space driver serves its fault file (policy {@code vfio.user-response}, parameter
 * {@code read-bytes}): one of the {@link UserspaceDriver.Policy} labels, or {@link #MANUAL} — the lab's addition in
 * which no client reads at all and only {@code fault-read}/{@code fault-write} steps touch the file.
 *
 * @param mode      one of {@link #MODES}
 * @param readBytes the client's read buffer, a positive multiple of {@link IommufdFault#RECORD_SIZE}
 */
public record UserspaceResponse(String mode, int readBytes) {

    /** No client reader: the file is served by scenario steps only (raw control). */
    public static final String MANUAL = "manual";
    /** Every mode, the kernel-facing client policies first. */
    public static final List<String> MODES = List.of(UserspaceDriver.Policy.RESOLVE_AND_SUCCEED.label(),
            UserspaceDriver.Policy.ALWAYS_INVALID.label(), UserspaceDriver.Policy.NEVER.label(), MANUAL);
    /** 32 records: a buffer of 1280 bytes. */
    public static final int DEFAULT_READ_BYTES = 32 * IommufdFault.RECORD_SIZE;
    public static final UserspaceResponse DEFAULT = new UserspaceResponse(MODES.get(0), DEFAULT_READ_BYTES);

    /** Validates the mode and the buffer size. */
    public UserspaceResponse {
        if (!MODES.contains(mode)) {
            throw new IllegalArgumentException("mode must be one of " + MODES + ": " + mode);
        }
        if (readBytes <= 0 || readBytes % IommufdFault.RECORD_SIZE != 0) {
            throw new IllegalArgumentException("readBytes must be a positive multiple of 40: " + readBytes);
        }
    }

    /** The same buffer with another mode (a process's own {@code user-response}). */
    public UserspaceResponse withMode(String newMode) {
        return new UserspaceResponse(newMode, readBytes);
    }

    /** The client's policy; {@link #MANUAL} has a client that never answers and is never woken. */
    public UserspaceDriver.Policy clientPolicy() {
        return UserspaceDriver.Policy.fromLabel(mode).orElse(UserspaceDriver.Policy.NEVER);
    }

    public boolean manual() {
        return MANUAL.equals(mode);
    }
}
