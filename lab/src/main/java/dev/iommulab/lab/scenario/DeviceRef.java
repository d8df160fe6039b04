package dev.iommulab.lab.scenario;

/** A step or expectation that names a declared device; lets {@link Scenario} check references. */
interface DeviceRef {
    String device();
}
