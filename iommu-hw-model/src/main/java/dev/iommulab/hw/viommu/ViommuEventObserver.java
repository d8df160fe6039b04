package dev.iommulab.hw.viommu;

/** Told, once per fault, whether its record was delivered (and when) or dropped; the lab uses it for its report. */
@FunctionalInterface
public interface ViommuEventObserver {

    ViommuEventObserver NONE = event -> { };

    void eventSettled(ViommuEvent event);
}
