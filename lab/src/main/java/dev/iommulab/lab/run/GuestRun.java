package dev.iommulab.lab.run;

import dev.iommulab.lab.machine.Machine;

/**
 * One guest during a run: its machine (on the host's event loop), what the runner watches in it, and the executor of
 * its {@code guest:} steps.
 */
record GuestRun(String name, Machine machine, Observations observations, StepExecutor executor) {
}
