package dev.iommulab.lab.scenario;

import java.util.Set;

/**
 * What binders share during one load: where problems go, and the declared device and process names
 * (in file order) for reference checks.
 */
record Binding(Problems problems, Set<String> devices, Set<String> processes) {
}
