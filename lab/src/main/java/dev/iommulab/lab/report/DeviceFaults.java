package dev.iommulab.lab.report;

import dev.iommulab.lab.run.RunResult;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What became of one device's faults in a run, from {@link RunResult#faultRecords()}: how many the IOMMU
 * recorded, how many were coalesced into a pending record (the invented option {@code fault-quota}), how many
 * were lost (not recorded and not coalesced: overflow, suppression), and when the first record was made.
 *
 * @param firstRecordedNs simulated time of the device's first recorded fault, or null when none was recorded
 */
public record DeviceFaults(String name, long recorded, long coalesced, long lost, Long firstRecordedNs) {

    /** Every device of the run (in the run's order, then any other device a fault names), faults or not. */
    public static List<DeviceFaults> of(RunResult result) {
        Set<String> names = new LinkedHashSet<>();
        result.devices().forEach(d -> names.add(qualified(d.guest(), d.name())));
        result.faultRecords().forEach(f -> names.add(qualified(f.guest(), f.device())));
        List<DeviceFaults> out = new ArrayList<>();
        for (String name : names) {
            long recorded = 0;
            long coalesced = 0;
            long lost = 0;
            Long first = null;
            for (RunResult.FaultRecordEntry f : result.faultRecords()) {
                if (!qualified(f.guest(), f.device()).equals(name)) {
                    continue;
                }
                if (f.recorded()) {
                    recorded++;
                    first = first == null ? f.atNs() : Math.min(first, f.atNs());
                } else if (f.coalesced()) {
                    coalesced++;
                } else {
                    lost++;
                }
            }
            out.add(new DeviceFaults(name, recorded, coalesced, lost, first));
        }
        return out;
    }

    /** A device's name in reports: a guest's as {@code vm0/vnet0}, the host's as it is. */
    public static String qualified(String guest, String device) {
        return guest == null ? device : guest + "/" + device;
    }

    /** Whether the device had any fault at all. */
    public boolean any() {
        return recorded + coalesced + lost > 0;
    }
}
