package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.PciReset;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.Collection;
import java.util.Comparator;

/**
 * The reset step the overflow recoveries share ({@link OverflowRecovery#RESET_DEVICES},
 * {@link FaultOverflowRecovery#RESET_DEVICES}): every function, in requester-ID order, is announced as
 * {@code pci_info()} prints for a PCI function ({@code "pci 0000:00:04.0: resetting after ..."}, the lab's text:
 * the kernel has no such recovery) and reset through the PCI layer ({@link PciReset#resetFunction}, the
 * counterpart of {@code pci_reset_function()}: FLR, then PASID, PRI and ATS restored).
 */
final class FunctionReset {

    private FunctionReset() {
    }

    /** Resets every function of {@code endpoints}, logging {@code why} for each. Process context only. */
    static void resetAll(Collection<PcieEndpoint> endpoints, KernelLog log, String why) {
        for (PcieEndpoint ep : endpoints.stream().sorted(Comparator.comparingInt(PcieEndpoint::rid)).toList()) {
            log.info("pci %s: resetting after %s", Device.pciName(ep.rid()), why);
            PciReset.resetFunction(ep);
        }
    }
}
