package dev.iommulab.hw.pci;

import java.util.Objects;

/**
 * The capabilities of one PCIe function.
 *
 * @param pasidBits        width of the PASID capability (0 = none)
 * @param priCapacity      Outstanding Page Request Capacity advertised by the PRI capability
 * @param atcEntries       entries of the Address Translation Cache; 0 = no caching (every access that
 *                         uses ATS sends a Translation Request)
 * @param maxPriRetries    how many times one page is re-requested after Success before the work item
 *                         gives up (protects against a host that answers Success without mapping)
 * @param options          MPS, tags, PRI/ATS status bits and fault knobs ({@link EndpointOptions#DEFAULTS})
 */
public record EndpointConfig(String name, int rid, DeviceProfile profile, boolean ats, boolean pri, int pasidBits,
                             int priCapacity, int atcEntries, int maxPriRetries, EndpointOptions options) {

    public EndpointConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(options, "options");
        if ((rid & ~0xffff) != 0) {
            throw new IllegalArgumentException("rid must be 16 bits: " + rid);
        }
        if (pri && !ats) {
            throw new IllegalArgumentException(name + ": PRI requires ATS");
        }
        if (pasidBits < 0 || pasidBits > 20) {
            throw new IllegalArgumentException(name + ": pasidBits must be 0..20: " + pasidBits);
        }
        if (priCapacity < 1 || maxPriRetries < 1) {
            throw new IllegalArgumentException(name + ": priCapacity and maxPriRetries must be >= 1");
        }
        if (atcEntries < 0) {
            throw new IllegalArgumentException(name + ": atcEntries must be >= 0: " + atcEntries);
        }
    }

    /** A function with {@link EndpointOptions#DEFAULTS}. */
    public EndpointConfig(String name, int rid, DeviceProfile profile, boolean ats, boolean pri, int pasidBits,
                          int priCapacity, int atcEntries, int maxPriRetries) {
        this(name, rid, profile, ats, pri, pasidBits, priCapacity, atcEntries, maxPriRetries,
                EndpointOptions.DEFAULTS);
    }

    public EndpointConfig withOptions(EndpointOptions newOptions) {
        return new EndpointConfig(name, rid, profile, ats, pri, pasidBits, priCapacity, atcEntries, maxPriRetries,
                newOptions);
    }

    /** Number of PASIDs the function supports ({@code 1 << pasidBits}, or 0 without the capability). */
    public int maxPasids() {
        return pasidBits == 0 ? 0 : 1 << pasidBits;
    }
}
