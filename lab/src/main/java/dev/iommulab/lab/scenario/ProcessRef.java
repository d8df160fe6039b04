package dev.iommulab.lab.scenario;

/** A step that may name a declared process ({@code null} when it does not); lets {@link Scenario} check it. */
interface ProcessRef {
    String process();
}
