package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * One PCIe endpoint of the {@code devices} section.
 *
 * @param name       unique device name, referenced by steps and expectations
 * @param bdf        bus:device.function in hex, {@code bb:dd.f}
 * @param profile    behaviour profile, one of {@link #PROFILES} (file default {@code generic})
 * @param ats        whether the endpoint has ATS (and an ATC)
 * @param pri        whether the endpoint has PRI; requires {@code ats}
 * @param pasidBits  PASID width, 0..20; 0 means no PASID capability
 * @param priCredits outstanding page request allocation, >= 1 (file default 32)
 * @param atcEntries ATC size in entries, >= 0 (file default 64)
 * @param virtualFunction whether the function is an SR-IOV Virtual Function (file default false)
 */
public record DeviceSpec(String name, String bdf, String profile, boolean ats, boolean pri, int pasidBits,
                         int priCredits, int atcEntries, boolean virtualFunction) {

    /** Device behaviour profiles. */
    public static final List<String> PROFILES = List.of("accelerator", "nic", "nvme", "generic");
    /** Defaults used by the loader for absent keys. */
    public static final int DEFAULT_PRI_CREDITS = 32;
    /** Default ATC size in entries. */
    public static final int DEFAULT_ATC_ENTRIES = 64;
    /** Largest PASID width (PCIe: 20 bits). */
    public static final int MAX_PASID_BITS = 20;

    /** Validates every field. */
    public DeviceSpec {
        Checks.name(name, "device name");
        Checks.rid(bdf);
        Checks.oneOf(profile, PROFILES, "profile");
        if (pri && !ats) {
            throw new IllegalArgumentException("device " + name + ": pri requires ats");
        }
        Checks.range(pasidBits, 0, MAX_PASID_BITS, "pasid-bits");
        Checks.range(priCredits, 1, Integer.MAX_VALUE, "pri-credits");
        Checks.range(atcEntries, 0, Integer.MAX_VALUE, "atc-entries");
    }

    /** The PCI requester ID: {@code bus << 8 | device << 3 | function}. */
    public int rid() {
        return Checks.rid(bdf);
    }

    /** A physical function (not a VF). */
    public DeviceSpec(String name, String bdf, String profile, boolean ats, boolean pri, int pasidBits,
                      int priCredits, int atcEntries) {
        this(name, bdf, profile, ats, pri, pasidBits, priCredits, atcEntries, false);
    }
}
