package dev.iommulab.iopf;

import dev.iommulab.core.fault.IommuFault;

/**
 * Policy {@code iopf.partial-match}: which parked non-last requests iopf_group_alloc() moves into the
 * group of an LPIG. The kernel matches by grpid only (PRG indices are per function, reference §8 item 9);
 * {@link #GRPID_PASID} also requires the same PASID (or both without PASID).
 */
public interface PartialMatch {

    /** Whether {@code partial} belongs to the group closed by {@code last}. */
    boolean matches(IommuFault partial, IommuFault last);

    /** The kernel's choice: grpid only. */
    PartialMatch GRPID = (p, l) -> p.grpid() == l.grpid();

    /** grpid and PASID. */
    PartialMatch GRPID_PASID = (p, l) -> p.grpid() == l.grpid() && p.pasidValid() == l.pasidValid()
            && (!p.pasidValid() || p.pasid() == l.pasid());
}
