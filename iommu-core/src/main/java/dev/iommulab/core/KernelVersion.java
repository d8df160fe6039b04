package dev.iommulab.core;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Which kernel's fault-path behaviour the simulation follows (scenario key {@code kernel}); reference
 * §2.6 and §8 items 56-58.
 */
public enum KernelVersion {
    /**
     * Mainline since v6.11: route first; bad setup (no handler, no fault param) is answered INVALID with
     * the real event, even for a non-last request; group OOM and handler refusal answer FAILURE (err_abort).
     */
    LATEST("latest"),
    /**
     * v6.9/v6.10 with the lost {@code return} (reference §8 item 57): a non-last request is parked and then
     * also grouped and handled, so it gets a response of its own.
     */
    V6_9("v6.9"),
    /**
     * v6.8-v6.10 (Lu Baolu's rework, before b58b133e680b): partials are parked before routing; no handler
     * goes through err_abort (FAILURE); a device without fault param gets no response at all.
     */
    V6_8("v6.8"),
    /**
     * Before v6.8: the core returns an error and the driver answers (VT-d: INVALID, only for LPIG); on an
     * LPIG failure the core first frees the partials of that grpid ("cleanup_partial").
     */
    PRE_6_8("pre-6.8");

    private final String label;

    KernelVersion(String label) {
        this.label = label;
    }

    /** The name in scenario files. */
    public String label() {
        return label;
    }

    /** Whether non-last requests are parked before the request is routed (every mode but {@link #LATEST}). */
    public boolean parksBeforeRouting() {
        return this != LATEST;
    }

    /** Whether the driver answers a request the core reported an error for ({@link #PRE_6_8}). */
    public boolean driverAnswersErrors() {
        return this == PRE_6_8;
    }

    /** Scenario names, in declaration order. */
    public static List<String> labels() {
        return Arrays.stream(values()).map(KernelVersion::label).toList();
    }

    public static Optional<KernelVersion> fromLabel(String label) {
        return Arrays.stream(values()).filter(v -> v.label.equals(label)).findFirst();
    }
}
