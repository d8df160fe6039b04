package dev.iommulab.core.fault;

import dev.iommulab.hw.sim.Labelled;

/** Who answered a page request group (SCENARIO-FORMAT.md {@code origin}). */
public enum ResponseOrigin implements Labelled {
    SVA,
    IOMMUFD,
    ABORT,
    BAD_SETUP,
    REMOVE_DEVICE,
    AUTO_RESPONSE,
    DRIVER,
    HARDWARE,
    /** io-pgfault refused a group by policy ({@code iopf.group-allocation: bounded-pool}) and answered INVALID. */
    BACK_PRESSURE;
}
