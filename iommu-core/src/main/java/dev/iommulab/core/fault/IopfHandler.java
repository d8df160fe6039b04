package dev.iommulab.core.fault;

/**
 * A fault-capable domain's {@code iopf_handler}. Called by io-pgfault from the driver's fault report
 * path (IRQ thread); must not block. Returns 0 when it accepted the group (and now owes one response
 * and a free), or a negative errno when it refused (io-pgfault then aborts the group).
 */
@FunctionalInterface
public interface IopfHandler {
    int handle(IopfGroup group);
}
