package dev.iommulab.core.kernel;

import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pci.PriState;

/**
 * The PCI layer's function reset, {@code pci_reset_function()} in drivers/pci/pci.c: save what software had
 * enabled, reset the function (here FLR, {@code pcie_flr()}), then {@code pci_restore_state()} writes it back:
 * {@code pci_restore_pasid_state()}, {@code pci_restore_pri_state()} (the Outstanding Page Request Allocation,
 * then Enable) and {@code pci_restore_ats_state()}. The function's ATC, outstanding requests and PRI credits
 * are gone afterwards; running work items end {@code aborted} ({@link PcieEndpoint#functionLevelReset()}).
 *
 * <p>Sleeps in the kernel (FLR waits 100 ms): never call it from interrupt context; the FLR itself takes no
 * simulated time here.
 */
public final class PciReset {

    private PciReset() {
    }

    /**
     * Counterpart of pci_reset_function(): FLR of {@code ep}, then its PASID, PRI and ATS state written back. The PRI
     * step (allocation first, then Enable) is the Counterpart of pci_restore_pri_state(); the lab has no separate
     * method for it.
     */
    public static void resetFunction(PcieEndpoint ep) {
        boolean ats = ep.atsEnabled();
        boolean pasid = ep.pasidEnabled();
        PriState pri = ep.priState();
        ep.functionLevelReset();
        ep.setPasidEnabled(pasid);
        if (pri.enabled()) {
            ep.enablePri(pri.allocation());
        }
        ep.setAtsEnabled(ats);
    }
}
