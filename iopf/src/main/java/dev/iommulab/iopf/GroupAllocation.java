package dev.iommulab.iopf;

import dev.iommulab.core.Device;

/**
 * Policy {@code iopf.group-allocation}: where iopf_group_alloc() gets a group from. The kernel allocates
 * one (which may fail: site {@link Iopf#SITE_GROUP}; the request is then answered through the on-stack
 * abort group); {@link BoundedPoolAllocation} takes it from a preallocated pool with a per-device limit and
 * answers INVALID as back-pressure when either runs out (reference §2.6, the 2024 pool-plus-rate-limit idea).
 */
public interface GroupAllocation {

    /** What an allocation attempt gave. */
    enum Outcome {
        /** A group; {@link #release} is due when it is freed. */
        GRANTED,
        /** Allocation failed: the abort group answers (err_abort). */
        FAILED,
        /** No group by policy: answer INVALID (origin {@code back-pressure}). */
        BACK_PRESSURE
    }

    /** Tries to get a group for an LPIG of {@code dev}. */
    Outcome allocate(Device dev);

    /** A group {@link #allocate} granted for {@code dev} was freed. */
    void release(Device dev);
}
