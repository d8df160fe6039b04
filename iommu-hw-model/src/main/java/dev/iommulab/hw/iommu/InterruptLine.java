package dev.iommulab.hw.iommu;

/**
 * An interrupt vector a driver registered (MSI). The hardware model calls {@link #raise()} from a
 * simulation event once the message has been delivered; the driver's hard IRQ handler runs there.
 */
@FunctionalInterface
public interface InterruptLine {
    void raise();
}
